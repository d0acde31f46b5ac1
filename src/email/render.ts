/**
 * Renders an email from templates/emails: `<name>.subject.liquid`, `<name>.html.liquid`
 * and `<name>.txt.liquid`, each body wrapped in the shared layout
 * (`layout.html.liquid` / `layout.txt.liquid`) whose footer carries the society's
 * name and address. Every output is HTML-escaped in the HTML part; the text part
 * and subject are rendered without escaping (they are not HTML).
 */
import { Liquid, type Template } from 'liquidjs';
import type { Config } from '../config.js';
import { createTemplateEngine, templatesDir } from '../lib/templates.js';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

let htmlEngine: Liquid | undefined;
let plainEngine: Liquid | undefined;

function engines() {
  htmlEngine ??= createTemplateEngine();
  // Plain text must not turn "Smith & Sons" into "Smith &amp; Sons".
  plainEngine ??= new Liquid({ root: [templatesDir], extname: '.liquid', cache: true, strictFilters: true, jsTruthy: true });
  return { html: htmlEngine, plain: plainEngine };
}

/** The variables every email template can use. */
export function commonEmailVars(config: Config) {
  return {
    society: {
      name: config.society.name,
      address: config.society.address,
      registrationNumber: config.society.registrationNumber,
      contactEmail: config.society.contactEmail,
      privacyUrl: config.society.privacyUrl,
      logoUrl: config.society.logoUrl,
    },
    /** Sandbox payments: every email says so. */
    sandbox: config.stripe.sandbox,
    publicUrl: config.publicUrl,
    accountUrl: `${config.publicUrl}/account`,
  };
}

/**
 * Each template file parsed once per engine and kept: an email is rendered inside
 * the transaction that books the money (a burst of webhooks renders thousands), so
 * rendering is synchronous and touches no file after the first time.
 */
const parsed = new WeakMap<Liquid, Map<string, Template[]>>();

function parsedTemplate(engine: Liquid, file: string): Template[] {
  let files = parsed.get(engine);
  if (!files) parsed.set(engine, (files = new Map<string, Template[]>()));
  let templates = files.get(file);
  if (!templates) files.set(file, (templates = engine.parseFileSync(file)));
  return templates;
}

/** liquidjs renders to `any`: a template always renders text. */
function renderText(engine: Liquid, file: string, scope: object): string {
  return String(engine.renderSync(parsedTemplate(engine, file), scope));
}

export function renderEmail(config: Config, template: string, vars: Record<string, unknown>): RenderedEmail {
  if (!/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/.test(template)) throw new Error(`bad email template name ${template}`);
  const { html, plain } = engines();
  const scope = { ...vars, ...commonEmailVars(config) };
  // Full file names: liquidjs only appends .liquid to names without an extension.
  const subject = renderText(plain, `emails/${template}.subject.liquid`, scope);
  const htmlBody = renderText(html, `emails/${template}.html.liquid`, scope);
  const textBody = renderText(plain, `emails/${template}.txt.liquid`, scope);
  const plainSubject = subject.replace(/\s+/g, ' ').trim();
  const cleanSubject = config.stripe.sandbox ? `[SANDBOX] ${plainSubject}` : plainSubject;
  const htmlDocument = renderText(html, 'emails/layout.html.liquid', { ...scope, subject: cleanSubject, content: htmlBody });
  const textDocument = renderText(plain, 'emails/layout.txt.liquid', { ...scope, subject: cleanSubject, content: textBody.trim() });
  return { subject: cleanSubject, html: htmlDocument, text: `${textDocument.trim()}\n` };
}

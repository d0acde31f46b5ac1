/**
 * The outbox, readable in the browser (development, with no SMTP_URL): emails are
 * written as .eml files under DATA_DIR/outbox; /sandbox/emails lists them and shows
 * each one's text and HTML, so nobody has to open .eml files (or decode their
 * quoted-printable links by hand), and opens its attachments (a share certificate
 * drawn from the facts the email holds, as the send job draws it). Never mounted
 * in production.
 */
import { Router, type Response } from 'express';
import type { AppDeps } from '../deps.js';
import { createTemplateEngine } from '../lib/templates.js';
import { attachmentContent, type AttachmentKinds } from './attachments.js';
import { findEmail, listRecentEmails } from './outbox.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The newest emails, for the list here and the sandbox dashboard. */
export function recentOutboxEmails(deps: Pick<AppDeps, 'db'>, limit = 50) {
  return listRecentEmails(deps.db, limit).then((rows) =>
    rows.map((e) => ({ id: e.id, to: e.to_address, subject: e.subject, template: e.template, createdAt: e.created_at.toISOString(), sent: e.sent_at !== null, error: e.last_error })),
  );
}

/** Serves /sandbox/emails and below (full paths, so the route list shows where they are). */
export function outboxPagesRouter(deps: Pick<AppDeps, 'db' | 'config'>, attachmentKinds: AttachmentKinds): Router {
  const router = Router();
  const engine = createTemplateEngine();
  const render = async (res: Response, template: string, vars: object, status = 200) => {
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).type('html').send(await engine.renderFile(`sandbox/${template}`, { base: '/sandbox', ...vars }));
  };

  router.get('/sandbox/emails', async (_req, res) => {
    await render(res, 'emails', { title: 'Emails', emails: await recentOutboxEmails(deps), outboxDir: deps.config.mail.outboxDir });
  });

  router.get('/sandbox/emails/:id', async (req, res) => {
    const email = UUID.test(req.params.id) ? await findEmail(deps.db, req.params.id) : undefined;
    if (!email) {
      await render(res, 'problem', { title: 'No such email', message: 'There is no email with that id in the outbox.' }, 404);
      return;
    }
    await render(res, 'email', {
      title: email.subject,
      email: {
        id: email.id,
        to: email.to_address,
        from: email.from_address,
        replyTo: deps.config.mail.replyTo,
        subject: email.subject,
        createdAt: email.created_at.toISOString(),
        sentAt: email.sent_at?.toISOString() ?? null,
        text: email.text,
        // The text part with its links clickable.
        textParts: email.text.split(/(https?:\/\/[^\s<>"]+)/).map((part, i) => (i % 2 === 1 ? { link: part } : { text: part })),
        attachments: email.attachments.map((a, index) => ({ filename: a.filename, href: `/sandbox/emails/${email.id}/attachments/${index}` })),
      },
    });
  });

  // An attachment, as the email carries it (drawn now, from the facts the email holds).
  router.get('/sandbox/emails/:id/attachments/:index', async (req, res) => {
    const email = UUID.test(req.params.id) ? await findEmail(deps.db, req.params.id) : undefined;
    const attachment = /^\d{1,2}$/.test(req.params.index) ? email?.attachments[Number(req.params.index)] : undefined;
    if (!attachment) {
      res.status(404).type('text').send('No such attachment.');
      return;
    }
    const { filename, contentType, content } = await attachmentContent(attachmentKinds, attachment);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `inline; filename="${filename.replace(/[^\w.-]/g, '_')}"`);
    res.type(contentType).send(content);
  });

  // The HTML part as its own document, shown in a sandboxed frame (no scripts, no forms).
  router.get('/sandbox/emails/:id/html', async (req, res) => {
    const email = UUID.test(req.params.id) ? await findEmail(deps.db, req.params.id) : undefined;
    if (!email) {
      res.status(404).type('text').send('No such email.');
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation");
    // Links open in the whole window (a sign-in link's page has a form, which the frame would block).
    res.type('html').send(email.html.replace(/<head>/i, '<head><base target="_top">'));
  });

  return router;
}

/**
 * For the browser tests: the whole service as `npm start` runs it (sandbox
 * payments, emails as .eml files under DATA_DIR/outbox, the job worker) on a test
 * database, and headless Chromium driven by playwright-core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../../src/lib/net.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestDatabase } from './test-app.js';

export const screenshotsDir = path.resolve('var/e2e');

export interface BrowserService {
  service: RunningService;
  browser: Browser;
  outboxDir: string;
  /** Waits for an email to `to` whose subject matches (written after `writtenAfter`, epoch ms, when given), and gives its plain text. */
  waitForEmail(to: string, subject: RegExp, options?: { writtenAfter?: number }): Promise<string>;
  close(): Promise<void>;
}

/** axe-core on the page as it stands: the serious and critical violations, as readable lines (none expected). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) on ${page.url()}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

function findChromium(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((c): c is string => !!c && fs.existsSync(c));
  if (!found) {
    throw new Error("No Chromium found for the browser tests. Install Debian's package (apt-get install chromium) or set CHROMIUM_PATH.");
  }
  return found;
}

export async function startBrowserService(): Promise<BrowserService> {
  const executablePath = findChromium();
  const database = await createTestDatabase();
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reader-coop-e2e-'));
  const config = loadConfig({
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });
  if (!config.stripe.sandbox) throw new Error('the browser tests expect sandbox payments (no Stripe keys)');
  const service = await startService(config, createLogger('warn'));
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // As the machines here need: no sandbox as root, and no background traffic to the internet.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  fs.mkdirSync(screenshotsDir, { recursive: true });
  const outboxDir = config.mail.outboxDir;
  return {
    service,
    browser,
    outboxDir,
    async waitForEmail(to, subject, options = {}) {
      const seen = new Set<string>();
      for (let i = 0; i < 150; i++) {
        const files = fs.existsSync(outboxDir) ? fs.readdirSync(outboxDir).filter((f) => f.endsWith('.eml')) : [];
        for (const file of files) {
          if (seen.has(file)) continue;
          if (options.writtenAfter !== undefined && fs.statSync(path.join(outboxDir, file)).mtimeMs <= options.writtenAfter) continue;
          seen.add(file);
          const mail = await simpleParser(fs.readFileSync(path.join(outboxDir, file)));
          const recipients = [mail.to].flat().flatMap((a) => a?.value ?? []).map((v) => v.address?.toLowerCase());
          if (recipients.includes(to.toLowerCase()) && subject.test(mail.subject ?? '')) return mail.text ?? '';
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no email to ${to} matching ${subject} arrived in ${outboxDir}`);
    },
    async close() {
      await browser.close();
      await service.stop();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

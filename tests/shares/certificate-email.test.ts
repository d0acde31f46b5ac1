/**
 * The welcome email's share certificate is drawn by the email's send job, after the
 * allotment has committed, from the facts of that allotment: the allotment's
 * transaction (holding the register's locks) stores no PDF.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { NOW, buyShares, emailsTo, eventually, memberByEmail, personApplication, uniqueEmail } from './shares-helpers.js';

async function pdfText(pdf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: pdf });
  try {
    // One line, single spaces: the certificate's sentences wrap where the page makes them.
    return (await parser.getText()).text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

async function welcomeEmailTo(app: TestApp, email: string) {
  const welcome = (await emailsTo(app, email)).find((e) => e.template === 'shares/welcome');
  if (!welcome) throw new Error(`no welcome email to ${email}`);
  return welcome;
}

describe('the share certificate in the welcome email', () => {
  describe('over SMTP', () => {
    let smtp: TestSmtp;
    let app: TestApp;
    beforeAll(async () => {
      smtp = await startTestSmtp();
      // No email worker yet: emails stay queued as the allotments' transactions left them.
      app = await startTestApp({ now: NOW, env: { SMTP_URL: smtp.url } });
    });
    afterAll(async () => {
      await app.close();
      await smtp.close();
    });

    it('when shares are allotted, then the queued email holds no PDF, and the mail sent later carries the certificate as at that allotment, even after a second allotment', async () => {
      const email = uniqueEmail('certificate');
      await buyShares(app, personApplication(250, { email, name: 'Grace Łukasz Owner' }));
      // A second allotment before the welcome is sent: the holding grows, the certificate it was about does not.
      await buyShares(app, personApplication(40, { email }));
      const member = (await memberByEmail(app, email))!;
      expect(member.shares_held).toBe(290);

      const queued = await welcomeEmailTo(app, email);
      expect(queued.sent_at).toBeNull();
      const stored = JSON.stringify(queued.attachments);
      expect(queued.attachments.every((a) => !('contentBase64' in a))).toBe(true);
      expect(stored).not.toContain('%PDF');
      expect(stored).not.toContain('JVBERi'); // "%PDF" in base64
      expect(stored.length).toBeLessThan(1_000);

      const worker = await app.startWorker();
      try {
        const [mail] = await smtp.waitForMail((m) => m.to === email && m.subject.startsWith(`Welcome, member ${member.number}:`));
        const attachments = mail!.parsed.attachments;
        expect(attachments.map((a) => [a.filename, a.contentType])).toEqual([[`share-certificate-${member.number}.pdf`, 'application/pdf']]);
        const pdf = attachments[0]!.content;
        expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        const text = await pdfText(pdf);
        expect(text).toContain('Grace Łukasz Owner');
        expect(text).toContain(`Member number ${member.number}`);
        expect(text).toContain('registered holder of 250 fully paid withdrawable shares');
        expect(text).toContain('£250.00 having been paid');
        expect(text).not.toContain('290');
        expect(text).toContain('Date: 25 November 2026');
        await eventually(async () => expect((await welcomeEmailTo(app, email)).sent_at).not.toBeNull());
      } finally {
        await worker.stop();
      }
    });
  });

  describe('in development (no SMTP_URL)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ now: NOW, worker: true });
    });
    afterAll(() => app.close());

    it('when the welcome is written to the outbox folder, then its .eml carries the certificate, and /sandbox/emails opens the same bytes', async () => {
      const email = uniqueEmail('eml');
      await buyShares(app, personApplication(12, { email, name: 'Dev Reader' }));
      const member = (await memberByEmail(app, email))!;
      const welcome = await eventually(async () => {
        const row = await welcomeEmailTo(app, email);
        expect(row.sent_at).not.toBeNull();
        return row;
      });

      const outbox = path.join(app.dataDir, 'outbox');
      const file = (await fs.readdir(outbox)).find((f) => f.endsWith(`_${welcome.id}.eml`));
      expect(file).toBeDefined();
      const parsed = await simpleParser(await fs.readFile(path.join(outbox, file!)));
      expect(parsed.attachments).toHaveLength(1);
      const attached = parsed.attachments[0]!;
      expect(attached.filename).toBe(`share-certificate-${member.number}.pdf`);
      expect(await pdfText(attached.content)).toContain(`Member number ${member.number}`);

      const page = await app.request('GET', `/sandbox/emails/${welcome.id}`);
      expect(page.status).toBe(200);
      const href = `/sandbox/emails/${welcome.id}/attachments/0`;
      expect(page.text).toContain(`<a href="${href}">share-certificate-${member.number}.pdf</a>`);
      // Drawn again from the same facts, a day later: the same document, byte for byte (as a retried send draws it).
      app.clock.set(new Date(Date.parse(NOW) + 86_400_000));
      const res = await fetch(app.url + href);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(Buffer.from(await res.arrayBuffer()).equals(attached.content)).toBe(true);

      expect((await app.request('GET', `/sandbox/emails/${welcome.id}/attachments/1`)).status).toBe(404);
    });
  });
});

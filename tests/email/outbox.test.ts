import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueEmail, sendQueuedEmail, withOneSendJob } from '../../src/email/outbox.service.js';
import { createMailTransport } from '../../src/email/transport.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';

const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.org`;

async function jobsFor(app: TestApp, emailId: string) {
  const { rows } = await app.database.pool.query(
    `select id, attempts, last_error from graphile_worker.jobs where key = $1`,
    [`send-email:${emailId}`],
  );
  return rows as { id: string; attempts: number; last_error: string | null }[];
}

describe('the email outbox', () => {
  describe('with an SMTP server', () => {
    let smtp: TestSmtp;
    let app: TestApp;
    beforeAll(async () => {
      smtp = await startTestSmtp();
      app = await startTestApp({ env: { SMTP_URL: smtp.url, SOCIETY_NAME: 'Morning Star & Co-op Society', SOCIETY_ADDRESS: '9 Print Street, Leeds LS1 1AA' } });
    });
    afterAll(async () => {
      await app.close();
      await smtp.close();
    });

    it('when an email is queued, it is stored with its job in the same transaction, and nothing is stored if that transaction fails', async () => {
      const to = unique('rollback');
      const countJobs = async () =>
        (await app.database.pool.query(`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'send-email'`)).rows[0].n as number;
      const jobsBefore = await countJobs();
      await expect(
        app.db.transaction().execute(async (trx) => {
          await queueEmail(app.deps, trx, { to, template: 'sign-in', vars: { link: 'https://x.test/a', minutes: 15 } });
          throw new Error('the causing change failed');
        }),
      ).rejects.toThrow('the causing change failed');
      const rows = await app.db.selectFrom('emails').selectAll().where('to_address', '=', to).execute();
      expect(rows).toHaveLength(0);
      expect(await countJobs()).toBe(jobsBefore);
    });

    it('renders HTML and plain text in the shared layout, escapes variables, and puts the society in the footer', async () => {
      const to = unique('render');
      const { emailId } = await app.db.transaction().execute((trx) =>
        queueEmail(app.deps, trx, {
          to,
          template: 'donation-receipt',
          vars: { name: '<script>alert(1)</script> Ann', amount: '£25.00', date: '1 November 2026', campaign: 'November', reference: 'pi_1' },
        }),
      );
      const email = await app.db.selectFrom('emails').selectAll().where('id', '=', emailId).executeTakeFirstOrThrow();
      expect(email.subject).toBe('Thank you: receipt for your £25.00 gift to the fighting fund');
      expect(email.html).not.toContain('<script>alert(1)</script>');
      expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Ann');
      expect(email.html).toContain('Morning Star &amp; Co-op Society');
      expect(email.html).toContain('9 Print Street, Leeds LS1 1AA');
      expect(email.text).toContain('Morning Star & Co-op Society, 9 Print Street, Leeds LS1 1AA.');
      expect(email.text).toContain('<script>alert(1)</script> Ann');
      expect(email.text).toContain(`${app.config.publicUrl}/account`);
      expect(email.message_id).toMatch(new RegExp(`^<${emailId}@`));
      expect(await jobsFor(app, emailId)).toHaveLength(1);
    });

    it('when the worker was not running at commit time (killed before sending), the mail arrives once when it starts, and a repeated job sends nothing more', async () => {
      const to = unique('crash');
      const { emailId } = await app.db.transaction().execute((trx) =>
        queueEmail(app.deps, trx, { to, template: 'sign-in', vars: { link: 'https://x.test/b', minutes: 15 } }),
      );
      // Committed, not sent: the job waits in the queue.
      expect((await app.db.selectFrom('emails').select('sent_at').where('id', '=', emailId).executeTakeFirstOrThrow()).sent_at).toBeNull();
      expect(smtp.received.filter((m) => m.to === to)).toHaveLength(0);

      const worker = await app.startWorker();
      const [mail] = await smtp.waitForMail((m) => m.to === to);
      expect(mail!.subject).toContain('sign-in link');
      expect(mail!.text).toContain('https://x.test/b');
      expect(mail!.html).toContain('href="https://x.test/b"');
      await expect.poll(async () => (await app.db.selectFrom('emails').select('sent_at').where('id', '=', emailId).executeTakeFirstOrThrow()).sent_at).not.toBeNull();
      const email = await app.db.selectFrom('emails').selectAll().where('id', '=', emailId).executeTakeFirstOrThrow();
      expect(mail!.messageId).toBe(email.message_id);
      await worker.stop();

      // A retry of a job whose send already happened (say the worker died before acknowledging it).
      const transport = createMailTransport(app.config, app.deps.logger);
      expect(await sendQueuedEmail(app.deps, { transport, attachmentKinds: new Map() }, emailId)).toBe('already_sent');
      expect(smtp.received.filter((m) => m.to === to)).toHaveLength(1);
    });

    it('when SMTP is down for a while, the mail is retried and arrives once SMTP is back', async () => {
      const to = unique('down');
      await smtp.stop();
      const worker = await app.startWorker();
      try {
        const { emailId } = await app.db.transaction().execute((trx) =>
          queueEmail(app.deps, trx, { to, template: 'sign-in', vars: { link: 'https://x.test/c', minutes: 15 } }),
        );
        // The first attempt fails and is recorded (graphile-worker counts the attempt when it takes the job,
        // before the send has failed: wait for the failure itself).
        await expect
          .poll(async () => (await app.db.selectFrom('emails').select('last_error').where('id', '=', emailId).executeTakeFirstOrThrow()).last_error, { timeout: 10_000 })
          .toBeTruthy();
        expect((await jobsFor(app, emailId))[0]?.attempts ?? 0).toBeGreaterThanOrEqual(1);
        const failed = await app.db.selectFrom('emails').selectAll().where('id', '=', emailId).executeTakeFirstOrThrow();
        expect(failed.sent_at).toBeNull();
        expect(failed.last_error).toBeTruthy();
        await expect.poll(() => app.logs.some((l) => l.msg?.includes('will be retried') && l.emailId === emailId)).toBe(true);

        await smtp.start();
        const mails = await smtp.waitForMail((m) => m.to === to, { timeoutMs: 20_000 });
        expect(mails).toHaveLength(1);
        await expect
          .poll(async () => (await app.db.selectFrom('emails').select('sent_at').where('id', '=', emailId).executeTakeFirstOrThrow()).sent_at)
          .not.toBeNull();
      } finally {
        await smtp.start().catch(() => undefined);
        await worker.stop();
      }
    });

    it('when a transaction queues several emails inside withOneSendJob, then one send job carries them, each arrives once, and one that fails is retried alone', async () => {
      const [first, second, broken] = [unique('shared-1'), unique('shared-2'), unique('shared-broken')];
      const sendJobs = async () =>
        // graphile-worker's public jobs view leaves the payload out.
        (
          await app.database.pool.query(
            `select j.payload, j.attempts from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
              where t.identifier = 'send-email' and json_typeof(j.payload) = 'array' order by j.id`,
          )
        )
          .rows as { payload: string[]; attempts: number }[];
      const before = (await sendJobs()).length;
      const ids = await app.db.transaction().execute((trx) =>
        withOneSendJob(trx, async () => [
          (await queueEmail(app.deps, trx, { to: first, template: 'sign-in', vars: { link: 'https://x.test/s1', minutes: 15 } })).emailId,
          // Queued twice under one key: stored once, so named once in the job.
          (await queueEmail(app.deps, trx, { to: second, template: 'sign-in', vars: { link: 'https://x.test/s2', minutes: 15 }, dedupeKey: `shared:${second}` })).emailId,
          (await queueEmail(app.deps, trx, { to: second, template: 'sign-in', vars: { link: 'https://x.test/s2', minutes: 15 }, dedupeKey: `shared:${second}` })).emailId,
          // An attachment no instance can draw: this email fails every time.
          (
            await queueEmail(app.deps, trx, {
              to: broken,
              template: 'sign-in',
              vars: { link: 'https://x.test/s3', minutes: 15 },
              attachments: [{ filename: 'x.pdf', contentType: 'application/pdf', draw: 'no-such-kind', facts: {} }],
            })
          ).emailId,
        ]),
      );
      const jobs = await sendJobs();
      expect(jobs).toHaveLength(before + 1);
      expect(jobs.at(-1)!.payload).toEqual([ids[0], ids[1], ids[3]]);
      expect(await jobsFor(app, ids[0]!)).toEqual([]);

      const worker = await app.startWorker();
      try {
        await smtp.waitForMail((m) => m.to === first || m.to === second, { count: 2 });
        // The job is kept for its retry holding only the email that failed.
        await expect.poll(async () => (await sendJobs()).find((j) => j.payload.includes(ids[3]!)), { timeout: 10_000 }).toMatchObject({ payload: [ids[3]], attempts: 1 });
      } finally {
        await worker.stop();
      }
      expect(smtp.received.filter((m) => m.to === first || m.to === second)).toHaveLength(2);
      expect(smtp.received.filter((m) => m.to === broken)).toHaveLength(0);
      const failed = await app.db.selectFrom('emails').select(['sent_at', 'last_error']).where('id', '=', ids[3]!).executeTakeFirstOrThrow();
      expect(failed).toMatchObject({ sent_at: null, last_error: expect.stringContaining('no-such-kind') });
    });

    it('sends attachments', async () => {
      const to = unique('attach');
      const content = Buffer.from('%PDF-1.4 pretend certificate');
      await app.db.transaction().execute((trx) =>
        queueEmail(app.deps, trx, {
          to,
          template: 'sign-in',
          vars: { link: 'https://x.test/d', minutes: 15 },
          attachments: [{ filename: 'certificate.pdf', contentType: 'application/pdf', contentBase64: content.toString('base64') }],
        }),
      );
      const worker = await app.startWorker();
      try {
        const [mail] = await smtp.waitForMail((m) => m.to === to);
        expect(mail!.parsed.attachments).toHaveLength(1);
        expect(mail!.parsed.attachments[0]!.filename).toBe('certificate.pdf');
        expect(mail!.parsed.attachments[0]!.content.equals(content)).toBe(true);
      } finally {
        await worker.stop();
      }
    });
  });

  describe('without SMTP_URL', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ worker: true });
    });
    afterAll(() => app.close());

    it('writes each message as an .eml file under DATA_DIR/outbox and logs where', async () => {
      const to = unique('file');
      const { emailId } = await app.db.transaction().execute((trx) =>
        queueEmail(app.deps, trx, { to, template: 'sign-in', vars: { link: 'https://x.test/e', minutes: 15 } }),
      );
      const outbox = path.join(app.dataDir, 'outbox');
      await expect.poll(async () => (await fs.readdir(outbox).catch(() => [])).filter((f) => f.includes(emailId)), { timeout: 10_000 }).toHaveLength(1);
      const [file] = (await fs.readdir(outbox)).filter((f) => f.includes(emailId));
      expect(file).toMatch(/\.eml$/);
      const eml = await fs.readFile(path.join(outbox, file!), 'utf8');
      expect(eml).toContain(`To: ${to}`);
      expect(eml).toContain('https://x.test/e');
      const line = app.logs.find((l) => l.emailId === emailId && typeof l.file === 'string');
      expect(line?.file).toBe(path.join(outbox, file!));
    });
  });
});

/**
 * A real SMTP server for tests (smtp-server), receiving on 127.0.0.1 and parsing
 * every message with mailparser. It can be stopped and started again on the same
 * port, to play an SMTP server that is down for a while.
 *
 *   const smtp = await startTestSmtp();
 *   const app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url } });
 *   const [mail] = await smtp.waitForMail((m) => m.to === 'ann@example.org');
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/lib/net.js';

export interface ReceivedMail {
  /** The envelope recipient(s), lower-cased. */
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string | undefined;
  parsed: ParsedMail;
}

export interface TestSmtp {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Resolves with the mails matching `match` once there are at least `count` (default 1). */
  waitForMail(match?: (m: ReceivedMail) => boolean, options?: { count?: number; timeoutMs?: number }): Promise<ReceivedMail[]>;
  /** Stops listening (connections are refused) until start() is called again. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestSmtp(): Promise<TestSmtp> {
  const port = await freePort();
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let server: SMTPServer | undefined;

  const listen = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            received.push({
              to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()).join(','),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId,
              parsed,
            });
            for (const wake of waiters) wake();
            callback();
          })
          .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    // A client killed mid-conversation (the chaos run's SIGKILL) resets its connection:
    // that is the client's problem, not a reason for the test process to crash.
    server.on('error', () => undefined);
  };
  await listen();

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    waitForMail(match = () => true, options = {}) {
      const count = options.count ?? 1;
      const timeoutMs = options.timeoutMs ?? 15_000;
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.filter(match);
          if (found.length >= count) {
            cleanup();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`expected ${count} matching mail(s) within ${timeoutMs} ms; got ${received.filter(match).length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start: listen,
    async close() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/**
 * Logs with secrets and personal data in known places redacted: readable lines
 * on a terminal (pino-pretty, in this thread, so nothing is lost at exit), JSON
 * lines otherwise (a file, a pipe, a process manager's journal).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["stripe-signature"]', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
  };
  if (!destination && process.stdout.isTTY) {
    return pino(options, pinoPretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }));
  }
  return pino(options, destination);
}

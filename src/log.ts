// One pino logger for the process. JSON lines on stdout; never a cookie, token or Authorization
// value: the redact list is a safety net, the real rule is "don't pass them to the logger".
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.GATEHOUSE_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'token', 'secret', '*.token', '*.secret'],
      censor: '[redacted]',
    },
  });
}

/** A logger that drops everything: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

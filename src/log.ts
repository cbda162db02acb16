// One pino logger for the process. JSON lines on stdout; never a cookie, token or Authorization
// value: the redact list is a safety net, the real rule is "don't pass them to the logger".
import { pino, type Logger } from 'pino';
import { prettyDestination } from './log-pretty.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/** `log.format` when the config leaves it out: readable on a terminal, JSON lines for machines. */
export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'pretty' : 'json';
}

export function createLogger(level = process.env.GATEHOUSE_LOG_LEVEL ?? 'info', format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'token', 'secret', '*.token', '*.secret'],
      censor: '[redacted]',
    },
  };
  return format === 'pretty' ? pino(options, prettyDestination()) : pino(options);
}

/** A logger that drops everything: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

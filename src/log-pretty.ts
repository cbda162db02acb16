// `log.format: pretty` (the default on a terminal): the same records as the JSON lines, written
// for a person — time, level, message, then the fields. Access lines read like a request line.
// Only ever used on a terminal or when asked for: parsing each JSON line again costs a few µs.
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'msg', 'hostname', 'type']);

export function prettyDestination(out: NodeJS.WritableStream = process.stdout): DestinationStream {
  return {
    write(line: string): void {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(formatRecord(rec) + '\n');
    },
  };
}

export function formatRecord(rec: Record<string, unknown>): string {
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = LEVELS[rec.level as number] ?? String(rec.level);
  if (rec.type === 'access') {
    const who = rec.user ? ` ${String(rec.user)}` : '';
    const why = rec.decision ? ` ${String(rec.decision)}${rec.policy ? ` by ${String(rec.policy)}` : ''}${rec.reason ? ` (${String(rec.reason)})` : ''}` : '';
    return `${time} ${level} ${String(rec.method)} ${String(rec.host)}${String(rec.path)} → ${String(rec.status)} ${String(rec.durationMs)} ms${why}${who} [${String(rec.requestId)}]`;
  }
  const err = rec.err as { message?: string; stack?: string } | undefined;
  const fields = Object.entries(rec)
    .filter(([k, v]) => !SKIP.has(k) && k !== 'err' && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  let text = `${time} ${level} ${String(rec.msg ?? '')}${fields.length ? '  ' + fields.join(' ') : ''}`;
  if (err) text += `\n    ${err.stack ?? err.message ?? JSON.stringify(err)}`.replace(/\n/g, '\n    ');
  return text;
}

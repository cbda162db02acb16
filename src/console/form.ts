// Reads a console form (urlencoded, 1 MiB at most: a pasted app file fits) within 10 s.
import type { IncomingMessage } from 'node:http';

export const MAX_FORM_BYTES = 1024 * 1024;

export type FormResult = { ok: true; fields: URLSearchParams } | { ok: false; status: 400 | 413 | 415 };

export async function readConsoleForm(req: IncomingMessage, limit = MAX_FORM_BYTES): Promise<FormResult> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return { ok: false, status: 415 };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => req.destroy(), 10_000);
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        req.resume();
        return { ok: false, status: 413 };
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return { ok: false, status: 400 };
  } finally {
    clearTimeout(timer);
  }
  return { ok: true, fields: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) };
}

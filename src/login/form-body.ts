// Reads a small urlencoded form body (the local sign-in form). The pipeline never reads bodies; this
// endpoint answers the request itself, so it reads — with a size cap and a time cap.
import type { IncomingMessage } from 'node:http';

export const MAX_FORM_BYTES = 8 * 1024;
const READ_TIMEOUT_MS = 10_000;

export type FormResult = { ok: true; fields: URLSearchParams } | { ok: false; status: 413 | 415 | 400 };

export function readForm(req: IncomingMessage, limit = MAX_FORM_BYTES): Promise<FormResult> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return Promise.resolve({ ok: false, status: 415 });
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.resolve({ ok: false, status: 413 });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: FormResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, status: 400 });
      req.destroy();
    }, READ_TIMEOUT_MS);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        finish({ ok: false, status: 413 });
        req.resume();
        return;
      }
      if (!done) chunks.push(c);
    });
    req.on('end', () => finish({ ok: true, fields: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) }));
    req.on('error', () => finish({ ok: false, status: 400 }));
  });
}

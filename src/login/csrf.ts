// CSRF protection of the local sign-in form: a random value in an HttpOnly cookie, and in the form
// an HMAC of it. A cross-site page can make the browser send the cookie but can neither read it nor
// compute the matching form field; a forged cookie fails the HMAC. The HMAC key is derived from the
// gateway's signing key, so every worker (and a restarted process) accepts the same forms.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../context.js';
import { CSRF_COOKIE, helperCookie, readCookie } from './cookies.js';

const COOKIE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const MAX_AGE_SEC = 3600;
/** How long the one-time-code step may follow the password step. */
export const TICKET_TTL_MS = 5 * 60_000;

export class Csrf {
  private readonly key: Buffer;

  /** `secret`: key material shared by the workers (the signing key); random when absent. */
  constructor(secret?: Buffer) {
    this.key = secret ? Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'login form csrf', 32)) : randomBytes(32);
  }

  private mac(value: string): Buffer {
    return createHmac('sha256', this.key).update(value).digest();
  }

  /** The form token, and the cookie to set when the browser has none yet. */
  issue(ctx: RequestContext): { token: string; cookie?: string } {
    const existing = readCookie(ctx, CSRF_COOKIE);
    const value = existing && COOKIE_SHAPE.test(existing) ? existing : randomBytes(32).toString('base64url');
    const token = this.mac(value).toString('base64url');
    return value === existing ? { token } : { token, cookie: helperCookie(ctx, CSRF_COOKIE, value, MAX_AGE_SEC) };
  }

  /**
   * A ticket saying "the password step passed for `subject`" in this browser: an expiry and an HMAC
   * over it, the subject and the CSRF cookie (so it is good nowhere else). Call after verify().
   */
  ticket(ctx: RequestContext, subject: string, now = Date.now()): string {
    const expires = String(now + TICKET_TTL_MS);
    return `${expires}.${this.mac(`ticket\n${readCookie(ctx, CSRF_COOKIE) ?? ''}\n${subject}\n${expires}`).toString('base64url')}`;
  }

  verifyTicket(ctx: RequestContext, subject: string, ticket: string, now = Date.now()): boolean {
    const value = readCookie(ctx, CSRF_COOKIE);
    const m = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
    if (!value || !m || Number(m[1]) < now) return false;
    const given = Buffer.from(m[2] as string, 'base64url');
    const expected = this.mac(`ticket\n${value}\n${subject}\n${m[1]}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  verify(ctx: RequestContext, token: unknown): boolean {
    const value = readCookie(ctx, CSRF_COOKIE);
    if (!value || !COOKIE_SHAPE.test(value) || typeof token !== 'string') return false;
    const given = Buffer.from(token, 'base64url');
    const expected = this.mac(value);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * A browser sends Origin on a form POST; when present it must be this host. (Absent Origin is left to
 * the token: some privacy tools strip it.)
 */
export function sameOrigin(ctx: RequestContext): boolean {
  const origin = ctx.req.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    return new URL(origin).host.toLowerCase() === (ctx.req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

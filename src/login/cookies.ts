// Every cookie the login module sets. The session cookie is HttpOnly; Secure; SameSite=Lax; Path=/
// (Secure dropped only when session.secure_cookie is false, which the config check allows for a
// plain-http loopback listener only). The helper cookies live under /.gatehouse/ and expire fast.
import { parse, serialize, type SerializeOptions } from 'cookie';
import type { RequestContext } from '../context.js';

/** Binds a sign-in in progress to the browser that started it. */
export const FLOW_COOKIE = 'gatehouse_flow';
/** The CSRF secret of the local sign-in form (double submit, HMAC-bound). */
export const CSRF_COOKIE = 'gatehouse_csrf';

const HELPER_PATH = '/.gatehouse/';

function base(ctx: RequestContext): SerializeOptions {
  return { httpOnly: true, secure: ctx.config.session.secureCookie, sameSite: 'lax', path: '/' };
}

/**
 * session.cookie_domain applies only to hosts inside that domain; an app on an unrelated domain gets
 * a host-only cookie (it received the session through a handoff code).
 */
export function cookieDomainFor(ctx: RequestContext, host: string = ctx.host): string | undefined {
  const d = ctx.config.session.cookieDomain;
  if (!d) return undefined;
  return host === d || host.endsWith(`.${d}`) ? d : undefined;
}

/**
 * The session cookie outlives its token by a day, so a browser coming back after expiry still
 * presents it: the token is refused (`expired`) and the sign-in page can say why.
 */
export const EXPIRED_NOTICE_SEC = 86_400;

export function sessionCookie(ctx: RequestContext, token: string, expiresAtSec: number, now = Date.now()): string {
  const maxAge = Math.max(0, expiresAtSec - Math.floor(now / 1000)) + EXPIRED_NOTICE_SEC;
  const domain = cookieDomainFor(ctx);
  return serialize(ctx.config.session.cookie, token, { ...base(ctx), maxAge, ...(domain ? { domain } : {}) });
}

/** Clears the session cookie on this host and, when it applies, on the shared cookie domain. */
export function clearSessionCookies(ctx: RequestContext): string[] {
  const name = ctx.config.session.cookie;
  const out = [serialize(name, '', { ...base(ctx), maxAge: 0 })];
  const domain = cookieDomainFor(ctx);
  if (domain) out.push(serialize(name, '', { ...base(ctx), maxAge: 0, domain }));
  return out;
}

export function helperCookie(ctx: RequestContext, name: string, value: string, maxAgeSec: number): string {
  return serialize(name, value, { ...base(ctx), path: HELPER_PATH, maxAge: maxAgeSec });
}

export function readCookie(ctx: RequestContext, name: string): string | undefined {
  const header = ctx.req.headers.cookie;
  if (!header || !header.includes(name)) return undefined;
  return parse(header)[name] || undefined;
}

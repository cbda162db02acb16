// Where a browser may be sent after sign-in. `rd` comes from the query string, so it is hostile
// until proven otherwise: only http(s) URLs on a host this gateway serves (same listener port, no
// userinfo) survive; everything else — //evil, /\evil, http:evil, javascript:, tabs, look-alike
// Unicode — falls back to "/" on the current host.
import type { RequestContext } from '../context.js';
import { routerFor } from '../routing/router.js';
import { GATEHOUSE_PREFIX } from '../pipeline/route.js';

const MAX_RD = 4096;
export const IDENTITY_PATH = '/.gatehouse/identity';
// Control characters, whitespace, backslash and anything outside ASCII: a browser sends the
// original URL percent-encoded, so none of these belong in a genuine rd.
const FORBIDDEN = /[^\x21-\x7e]|\\/;

/** The scheme of the URLs the browser sees: https when the config says so, else the request's. */
export function schemeOf(ctx: RequestContext): 'http' | 'https' {
  return ctx.config.publicScheme === 'https' ? 'https' : ctx.proto;
}

/** ":8080" when the client addressed us with an explicit port, else "". */
export function portOf(ctx: RequestContext): string {
  const m = /:([0-9]{1,5})$/.exec(ctx.req.headers.host ?? '');
  return m ? `:${m[1]}` : '';
}

/** Origin of `host` (default: the request's host) on this listener, e.g. "https://wiki.corp.example". */
export function originOf(ctx: RequestContext, host: string = ctx.host): string {
  return `${schemeOf(ctx)}://${host}${portOf(ctx)}`;
}

/** The validated absolute rd URL, or null when it must not be honoured. */
export function safeRedirect(raw: unknown, ctx: RequestContext): URL | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RD || FORBIDDEN.test(raw)) return null;
  const absolute = /^https?:\/\//i.test(raw);
  // A path on this host: exactly one leading slash ("//x" is another host).
  const path = raw.startsWith('/') && !raw.startsWith('//');
  if (!absolute && !path) return null;
  let url: URL;
  try {
    url = new URL(raw, `${originOf(ctx)}/`);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '') return null;
  if (!routerFor(ctx.config).serves(url.hostname)) return null;
  const port = portOf(ctx).slice(1);
  if (url.port !== '' && url.port !== port) return null;
  if (port !== '' && url.port === '' && absolute) url.port = port;
  // Never back into the login endpoints (a loop at best); the identity page is the one exception.
  if (url.pathname.startsWith(GATEHOUSE_PREFIX) && url.pathname !== IDENTITY_PATH) return null;
  if (schemeOf(ctx) === 'https') url.protocol = 'https:';
  return url;
}

/** rd, or "/" on the current host when rd is absent or refused. */
export function redirectTarget(raw: unknown, ctx: RequestContext): URL {
  return safeRedirect(raw, ctx) ?? new URL(`${originOf(ctx)}/`);
}

// Strip, then inject: the headers the upstream sees. Client-sent identity headers and hop-by-hop
// headers go first (including every header the client named in Connection), then the gateway adds
// its own — so no client can spoof an identity or make the gateway drop one of its headers.
import type { IncomingHttpHeaders } from 'node:http';
import type { RoutedContext } from '../../context.js';
import type { UpstreamIdentity } from '../../auth/assertion.js';
import type { Identity } from '../../policy/types.js';
import type { Services } from '../services.js';

/**
 * Never copied from the client: hop-by-hop headers (`expect` too: Node already answered the
 * client's 100-continue) and the headers only the gateway sets.
 */
const STRIPPED = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'proxy-authorization', 'proxy-connection', 'upgrade', 'expect',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-request-id', 'forwarded', 'x-real-ip',
  'gatehouse-client-id', 'gatehouse-client-secret',
  // Identity headers other gateways set and apps behind them trust: oauth2-proxy's X-Forwarded-*,
  // Authelia's, Grafana's and Gitea's Remote-* (docs/security.md lists them all).
  'x-forwarded-user', 'x-forwarded-email', 'x-forwarded-groups', 'x-forwarded-preferred-username', 'x-forwarded-access-token',
  'remote-user', 'x-remote-user', 'remote-groups', 'remote-email', 'remote-name',
]);

/**
 * Identity header families only a gateway may set, whatever the app: any case, any client. Ours,
 * Pomerium's, oauth2-proxy's, Cloudflare Access's, Grafana's auth proxy (X-WEBAUTH-*), AWS ALB's,
 * Google IAP's and Azure App Service's.
 */
const IDENTITY_PREFIXES = [
  'x-gatehouse-', 'x-pomerium-', 'x-auth-request-', 'cf-access-', 'x-webauth-', 'x-amzn-oidc-', 'x-goog-authenticated-user-', 'x-ms-client-principal',
];

/**
 * Never dropped because the client named them in Connection: Host and the message's framing. The
 * headers the gateway sets are safe already: they are set after the copy.
 */
const NEVER_NOMINATED = new Set(['host', 'content-length', 'transfer-encoding']);

/** What goes upstream: the header fields as one flat [name, value, name, value …] list. */
export interface UpstreamRequest {
  /**
   * Flat name/value pairs, the form undici's dispatcher takes without walking an object's keys.
   * A value is a list only for a field Node keeps as one (set-cookie).
   */
  headers: Array<string | string[]>;
  /** The client sends a body (content-length > 0, or chunked): streamed upstream, framed again. */
  hasBody: boolean;
}

/**
 * The headers the upstream sees, built in one pass over Node's parsed headers: nothing is deleted
 * from an object (that would put it into V8's slow dictionary mode), nothing is copied twice, and
 * the identity headers are appended from the values cached per identity × app. A WebSocket upgrade
 * (forwarded by http-proxy-3, which reads ctx.req.headers) gets them as ctx.req.headers instead.
 * Transfer-encoding is never copied: the forwarder frames the body again.
 */
export function prepareUpstreamHeaders(ctx: RoutedContext, s: Services, trustedPeer: boolean): UpstreamRequest {
  const src = ctx.req.headers;
  const app = ctx.app;
  const nominated = nominatedHopByHop(src.connection);
  const country = !trustedPeer && ctx.config.countryHeader ? ctx.config.countryHeader : null; // lowercased at load
  const dropCredentials = !app.passCredentials;
  const strip = app.stripHeaders;
  const out: Array<string | string[]> = [];
  for (const name in src) {
    if (STRIPPED.has(name) || name === country || (nominated !== null && nominated.includes(name))) continue;
    const c = name.charCodeAt(0);
    if ((c === 120 /* x */ || c === 99 /* c */) && startsWithAny(name, IDENTITY_PREFIXES)) continue;
    if (strip !== null && (strip.names.has(name) || startsWithAny(name, strip.prefixes))) continue;
    const value = src[name];
    if (value === undefined) continue;
    if (dropCredentials) {
      if (name === 'authorization' && ctx.credentialSource === 'bearer') continue;
      if (name === 'cookie') {
        const kept = withoutSessionCookie(value as string, ctx.config.session.cookie);
        if (kept !== undefined) out.push(name, kept);
        continue;
      }
    }
    out.push(name, value);
  }

  const te = src['transfer-encoding'];
  const length = src['content-length'];
  const hasBody = (typeof te === 'string' && te !== '') || (length !== undefined && length !== '0');
  if (ctx.upgrade) out.push('connection', 'upgrade', 'upgrade', 'websocket');

  const xff = trustedPeer ? src['x-forwarded-for'] : undefined;
  const xfh = trustedPeer ? src['x-forwarded-host'] : undefined;
  out.push(
    'x-forwarded-for',
    typeof xff === 'string' && xff ? `${xff}, ${ctx.req.socket.remoteAddress ?? ''}` : ctx.clientIp,
    'x-forwarded-host',
    typeof xfh === 'string' && xfh ? xfh : (src.host ?? ctx.host),
    'x-forwarded-proto',
    ctx.proto,
    'x-request-id',
    ctx.requestId,
  );

  if (ctx.identity && ctx.decision?.outcome === 'allow') pushIdentity(out, ctx, ctx.identity, s);
  if (ctx.upgrade) ctx.req.headers = headerObject(out);
  return { headers: out, hasBody };
}

/** The flat list as the header object http-proxy-3 copies (WebSocket upgrades only). */
function headerObject(list: Array<string | string[]>): IncomingHttpHeaders {
  const h: IncomingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) h[list[i] as string] = list[i + 1] as string;
  return h;
}

/** Header names the client listed in Connection (besides the usual keep-alive/close/upgrade). */
function nominatedHopByHop(connection: string | undefined): string[] | null {
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return null;
  const names: string[] = [];
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && name !== 'upgrade' && name !== 'keep-alive' && name !== 'close' && !NEVER_NOMINATED.has(name)) names.push(name);
  }
  return names.length ? names : null;
}

function startsWithAny(name: string, prefixes: string[]): boolean {
  for (const p of prefixes) if (name.startsWith(p)) return true;
  return false;
}

/** The Cookie header without the gateway's own session cookie (other cookies go upstream); undefined when nothing is left. */
function withoutSessionCookie(cookie: string | undefined, name: string): string | undefined {
  if (typeof cookie !== 'string' || !cookie.includes(name)) return cookie;
  if (cookie.indexOf(';') === -1 && cookie.startsWith(`${name}=`)) return undefined; // only our cookie: the common case
  const kept = cookie
    .split(';')
    .filter((c) => {
      const eq = c.indexOf('=');
      return (eq === -1 ? c : c.slice(0, eq)).trim() !== name;
    })
    .join(';')
    .trim();
  return kept || undefined;
}

/** The trusted identity headers (and assertion) for an allowed request with an identity, appended to a flat name/value list. */
function pushIdentity(out: Array<string | string[]>, ctx: RoutedContext, identity: Identity, s: Services): void {
  const app = ctx.app;
  const up = s.assertions.upstream(identity, app.audience, app.jwtAssertion);
  if (up.email) out.push('x-gatehouse-user-email', up.email);
  if (up.userId) out.push('x-gatehouse-user-id', up.userId);
  if (up.groups) out.push('x-gatehouse-user-groups', up.groups);
  if (up.assertion) out.push('x-gatehouse-jwt-assertion', up.assertion);
  pushProductHeaders(out, up, app.identityHeaders);
}

/**
 * The identity_headers product's own names for the same values (each only when it has one): proxy
 * mode sends them upstream, forward-auth answers them for the proxy to copy.
 */
export function pushProductHeaders(out: Array<string | string[]>, up: UpstreamIdentity, flavor: RoutedContext['app']['identityHeaders']): void {
  const { email, userId: sub, groups, assertion } = up;
  switch (flavor) {
    case 'cloudflare':
      if (assertion) out.push('cf-access-jwt-assertion', assertion);
      if (email) out.push('cf-access-authenticated-user-email', email);
      break;
    case 'pomerium':
      if (assertion) out.push('x-pomerium-jwt-assertion', assertion);
      if (email) out.push('x-pomerium-claim-email', email);
      break;
    case 'oauth2-proxy':
      if (email) out.push('x-auth-request-email', email);
      if (sub) out.push('x-auth-request-user', sub);
      if (groups) out.push('x-auth-request-groups', groups);
      break;
    default:
      break;
  }
}

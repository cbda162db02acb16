// Strip, then inject: the headers the upstream sees. Client-sent identity headers and hop-by-hop
// headers go first (including every header the client named in Connection), then the gateway adds
// its own — so no client can spoof an identity or make the gateway drop one of its headers.
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../context.js';
import type { Services } from './services.js';
import { headerSafe } from '../auth/assertion.js';

// `expect` too: Node already answered the client's 100-continue; the body is coming either way.
const HOP_BY_HOP = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'proxy-authorization', 'proxy-connection', 'upgrade', 'expect'];

/** Headers only the gateway may set, whatever the app: any case, any client. */
const IDENTITY_PREFIXES = ['x-gatehouse-', 'cf-access-', 'x-pomerium-', 'x-auth-request-'];
const GATEWAY_SET = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-request-id', 'forwarded', 'x-real-ip', 'gatehouse-client-id', 'gatehouse-client-secret'];

/** Rewrites ctx.req.headers in place into what goes upstream. */
export function prepareUpstreamHeaders(ctx: RequestContext, s: Services, trustedPeer: boolean): void {
  const h = ctx.req.headers;
  const chunked = typeof h['transfer-encoding'] === 'string' && /chunked/i.test(h['transfer-encoding']);
  const wsUpgrade = ctx.upgrade;

  // Headers the client nominated as hop-by-hop via Connection.
  const connection = h.connection;
  if (typeof connection === 'string') {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && name !== 'upgrade') delete h[name];
    }
  }
  for (const name of HOP_BY_HOP) delete h[name];
  for (const name of Object.keys(h)) {
    if (startsWithAny(name, IDENTITY_PREFIXES)) delete h[name];
  }
  const xff = trustedPeer ? h['x-forwarded-for'] : undefined;
  const xfh = trustedPeer ? h['x-forwarded-host'] : undefined;
  for (const name of GATEWAY_SET) delete h[name];
  const country = ctx.config.countryHeader?.toLowerCase();
  if (country && !trustedPeer) delete h[country];

  // Body framing: transfer-encoding is hop-by-hop, but a chunked body must stay chunked.
  if (chunked) h['transfer-encoding'] = 'chunked';
  if (wsUpgrade) {
    h.connection = 'upgrade';
    h.upgrade = 'websocket';
  }

  const peer = ctx.req.socket.remoteAddress ?? '';
  h['x-forwarded-for'] = typeof xff === 'string' && xff ? `${xff}, ${peer}` : ctx.clientIp;
  h['x-forwarded-host'] = typeof xfh === 'string' && xfh ? xfh : (ctx.req.headers.host ?? ctx.host);
  h['x-forwarded-proto'] = ctx.proto;
  h['x-request-id'] = ctx.requestId;

  const app = ctx.app as NonNullable<RequestContext['app']>;
  if (!app.passCredentials) removeCredentials(h, ctx);
  const identity = ctx.identity;
  if (identity && ctx.decision?.outcome === 'allow') injectIdentity(h, ctx, s);
}

function startsWithAny(name: string, prefixes: string[]): boolean {
  for (const p of prefixes) if (name.startsWith(p)) return true;
  return false;
}

/** The gateway's own session cookie and a bearer token it consumed do not go upstream. */
function removeCredentials(h: IncomingHttpHeaders, ctx: RequestContext): void {
  if (ctx.credentialSource === 'bearer') {
    delete h.authorization;
  }
  const cookie = h.cookie;
  if (typeof cookie === 'string') {
    const name = ctx.config.session.cookie;
    if (cookie.includes(name)) {
      const kept = cookie
        .split(';')
        .filter((c) => {
          const eq = c.indexOf('=');
          return (eq === -1 ? c : c.slice(0, eq)).trim() !== name;
        })
        .join(';')
        .trim();
      if (kept) h.cookie = kept;
      else delete h.cookie;
    }
  }
}

function injectIdentity(h: IncomingHttpHeaders, ctx: RequestContext, s: Services): void {
  const identity = ctx.identity as NonNullable<RequestContext['identity']>;
  const app = ctx.app as NonNullable<RequestContext['app']>;
  const email = identity.email ? headerSafe(identity.email) : null;
  const groups = identity.groups.length ? headerSafe(identity.groups.join(',')) : null;
  const sub = headerSafe(identity.subject);
  if (email) h['x-gatehouse-user-email'] = email;
  if (sub) h['x-gatehouse-user-id'] = sub;
  if (groups) h['x-gatehouse-user-groups'] = groups;
  const assertion = s.assertions.sign(identity, app.audience);
  h['x-gatehouse-jwt-assertion'] = assertion;
  switch (app.identityHeaders) {
    case 'cloudflare':
      h['cf-access-jwt-assertion'] = assertion;
      if (email) h['cf-access-authenticated-user-email'] = email;
      break;
    case 'pomerium':
      h['x-pomerium-jwt-assertion'] = assertion;
      if (email) h['x-pomerium-claim-email'] = email;
      break;
    case 'oauth2-proxy':
      if (email) h['x-auth-request-email'] = email;
      if (sub) h['x-auth-request-user'] = sub;
      if (groups) h['x-auth-request-groups'] = groups;
      break;
    default:
      break;
  }
}

// Forward-auth, the routing half: a proxy in front (nginx, Traefik, Caddy, Envoy) holds a request
// and asks /.gatehouse/auth whether it may pass. Its question names that request in one of three
// ways; this module reads it into the context, so authenticate, authorize and record then work on
// the proxy's request exactly as they do on one Gatehouse forwards itself.
//
//   X-Original-URL (+ X-Original-Method)        nginx auth_request (set by the recipe)
//   X-Forwarded-Uri (+ -Host, -Method, -Proto)  Traefik ForwardAuth, Caddy forward_auth
//   /.gatehouse/auth/<path>?<query>             Envoy ext_authz (path_prefix), Host, own method
//
// Each proxy sets (overwrites) its own header but passes the client's others through, so a question
// that names the request in two ways is refused: otherwise a client could add the other style's
// header and have a different request authorized than the one the proxy forwards.
import type { IncomingHttpHeaders } from 'node:http';
import type { ForwardAuthStyle, RequestContext } from '../../context.js';
import { reject, type Rejection } from '../../errors.js';
import { routerFor } from '../../routing/router.js';
import { canonicalHost, normalizeTarget } from '../request.js';

export const FORWARD_AUTH_PATH = '/.gatehouse/auth';

/** Is this (normalised) path a forward-auth question? */
export function isForwardAuthPath(path: string): boolean {
  return path.startsWith(FORWARD_AUTH_PATH) && (path.length === FORWARD_AUTH_PATH.length || path.charCodeAt(FORWARD_AUTH_PATH.length) === 47 /* / */);
}

/** The request the proxy holds, as its question describes it. */
export interface ForwardedRequest {
  style: ForwardAuthStyle;
  method: string;
  /** undefined: the proxy's X-Forwarded-Proto (already read into ctx.proto). */
  proto: 'http' | 'https' | undefined;
  authority: string;
  target: string;
  upgrade: boolean;
}

export type Forwarded = { ok: true; request: ForwardedRequest } | { ok: false; reason: string; message: string };

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const ORIGINAL_URL = /^(https?):\/\/([^/?#]+)([^#]*)$/i;

/**
 * Reads the forwarded request from a question to /.gatehouse/auth (`path` and `query` are the
 * question's own, normalised). Pure: no context, so each style is tested alone.
 */
export function forwardedRequest(headers: IncomingHttpHeaders, ownMethod: string, path: string, query: string): Forwarded {
  const originalUrl = headers['x-original-url'];
  const forwardedUri = headers['x-forwarded-uri'];
  const suffix = path.length > FORWARD_AUTH_PATH.length ? path.slice(FORWARD_AUTH_PATH.length) : undefined;
  const styles = (originalUrl !== undefined ? 1 : 0) + (forwardedUri !== undefined ? 1 : 0) + (suffix !== undefined ? 1 : 0);
  if (styles === 0) {
    return bad('forwarded_request_missing', 'Name the request to authorize: X-Original-URL (nginx), X-Forwarded-Uri (Traefik, Caddy) or /.gatehouse/auth/<path> (Envoy).');
  }
  if (styles > 1) {
    return bad('forwarded_request_ambiguous', 'The request is named in more than one way (X-Original-URL, X-Forwarded-Uri, /.gatehouse/auth/<path>); the proxy must send exactly one.');
  }
  const upgrade = isWebSocket(headers);
  // Node joins repeated headers with ", " (one string), which neither pattern below accepts.
  if (originalUrl !== undefined) {
    const m = ORIGINAL_URL.exec(text(originalUrl));
    if (!m) return bad('bad_original_url', 'X-Original-URL must be an absolute http(s) URL, e.g. $scheme://$http_host$request_uri.');
    const method = methodOf(headers['x-original-method'], ownMethod);
    if (method === null) return bad('bad_forwarded_method', 'X-Original-Method is not an HTTP method.');
    const scheme = (m[1] as string).toLowerCase() as 'http' | 'https';
    return ok('original-url', method, scheme, m[2] as string, targetOf(m[3] as string), upgrade);
  }
  if (forwardedUri !== undefined) {
    const method = methodOf(headers['x-forwarded-method'], ownMethod);
    if (method === null) return bad('bad_forwarded_method', 'X-Forwarded-Method is not an HTTP method.');
    const xfh = headers['x-forwarded-host'];
    const authority = typeof xfh === 'string' && xfh !== '' ? xfh : (headers.host ?? '');
    const uri = text(forwardedUri);
    if (uri.charCodeAt(0) !== 47) return bad('bad_forwarded_uri', 'X-Forwarded-Uri must be the request target, starting with "/".');
    return ok('forwarded-uri', method, undefined, authority, uri, upgrade);
  }
  return ok('path', ownMethod, undefined, headers.host ?? '', `${suffix as string}${query}`, upgrade);
}

/**
 * Routes a forward-auth question: only trusted proxies may ask (their headers decide the app), and
 * only about an app served in forward_auth mode. The forwarded request passes the same hygiene as
 * one Gatehouse receives (host, dot segments, encoded separators).
 */
export function routeForwardAuth(ctx: RequestContext): Rejection | undefined {
  if (!ctx.trustedPeer) {
    return reject('forbidden', 'untrusted_peer', { message: 'Only a proxy listed in trusted_proxies may ask /.gatehouse/auth.' });
  }
  const f = forwardedRequest(ctx.req.headers, ctx.method, ctx.path, ctx.query);
  if (!f.ok) return reject('bad_request', f.reason, { message: f.message });
  const r = f.request;
  const host = canonicalHost(r.authority);
  if (host === null) return reject('bad_request', 'bad_forwarded_host', { message: 'The forwarded host is not a valid host name.' });
  const target = normalizeTarget(r.target);
  if (!target.ok) return reject('bad_request', target.reason, { message: target.message });

  ctx.forwardAuth = r.style;
  ctx.method = r.method;
  if (r.proto) ctx.proto = r.proto;
  ctx.authority = r.authority;
  ctx.host = host;
  ctx.path = target.path;
  ctx.query = target.query;
  ctx.upgrade = ctx.upgrade || r.upgrade;

  const app = routerFor(ctx.config).match(host, target.path);
  if (!app) return reject('route_not_found', 'no_route');
  if (!app.modes.forwardAuth) {
    return reject('route_not_found', 'forward_auth_not_enabled', { message: `App ${app.name} is not served in forward_auth mode.` });
  }
  ctx.app = app;
  return undefined;
}

/**
 * A WebSocket handshake, as the proxy's question shows it: nginx and Traefik drop the hop-by-hop
 * Upgrade header from the sub-request, but Sec-WebSocket-Key is end-to-end and always copied.
 */
function isWebSocket(headers: IncomingHttpHeaders): boolean {
  return headers['sec-websocket-key'] !== undefined || (headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function text(v: string | string[] | undefined): string {
  return typeof v === 'string' ? v : '';
}

function methodOf(header: string | string[] | undefined, own: string): string | null {
  if (header === undefined) return own;
  return typeof header === 'string' && METHOD.test(header) ? header : null;
}

/** "" → "/", "?q" → "/?q": nginx's $request_uri always starts with "/", but X-Original-URL is typed by hand too. */
function targetOf(rest: string): string {
  return rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
}

function ok(style: ForwardAuthStyle, method: string, proto: 'http' | 'https' | undefined, authority: string, target: string, upgrade: boolean): Forwarded {
  return { ok: true, request: { style, method, proto, authority, target, upgrade } };
}

function bad(reason: string, message: string): Forwarded {
  return { ok: false, reason, message };
}

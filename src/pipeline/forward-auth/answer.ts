// Forward-auth, the answering half: where proxy mode forwards, a forward-auth question ends in a
// small answer the proxy acts on. 200 carries the identity headers for the proxy to copy upstream;
// a refusal is the same rejection proxy mode would send, except where the proxy needs it otherwise.
import { STATUS_CODES, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestContext, RoutedContext } from '../../context.js';
import type { Rejection } from '../../errors.js';
import { injectIdentity } from '../forward/headers.js';
import type { Services } from '../services.js';

/**
 * 200: the proxy lets the request through, copying the identity headers upstream. The four
 * X-Gatehouse-* headers are always there, empty when there is nothing to say (a bypass, an identity
 * without groups): proxies that copy a fixed list (Caddy's copy_headers, Traefik's
 * authResponseHeaders) then always overwrite a client's copy, and Caddy 2.6 would otherwise send
 * its unreplaced placeholder, "{http.reverse_proxy.header.…}", as the value.
 */
export function answerAllowed(ctx: RoutedContext, s: Services, res: ServerResponse | null, socket: Duplex | null): void {
  const h: IncomingHttpHeaders = {
    'x-request-id': ctx.requestId,
    'cache-control': 'no-store',
    'x-gatehouse-user-email': '',
    'x-gatehouse-user-id': '',
    'x-gatehouse-user-groups': '',
    'x-gatehouse-jwt-assertion': '',
  };
  if (ctx.identity && ctx.decision?.outcome === 'allow') injectIdentity(h, ctx, ctx.identity, s);
  ctx.status = 200;
  if (res) {
    h['content-length'] = '0';
    res.writeHead(200, h);
    res.end();
  } else if (socket) {
    // The question itself came as an upgrade (a proxy that copies Connection: upgrade): answer it
    // as a plain response on the raw socket, as a refused upgrade is answered.
    let head = `HTTP/1.1 200 ${STATUS_CODES[200]}\r\nconnection: close\r\ncontent-length: 0\r\n`;
    for (const [name, value] of Object.entries(h)) head += `${name}: ${String(value)}\r\n`;
    if (socket.writable) socket.end(`${head}\r\n`);
    else socket.destroy();
  }
}

/**
 * A refusal as the proxy needs it. Only the browser's sign-in redirect differs from proxy mode: the
 * login URL becomes absolute on the forwarded host (the proxy routes /.gatehouse/ there), and nginx's
 * auth_request, which accepts nothing but 2xx, 401 and 403, gets it as the Location of a 401 for its
 * error_page to redirect to. Traefik, Caddy and Envoy relay an answer to the client as it is: a 302.
 */
export function forwardAuthRejection(ctx: RequestContext, rej: Rejection): Rejection {
  if (rej.redirect === undefined) return rej;
  const { redirect, ...rest } = rej;
  const login = `${ctx.proto}://${ctx.authority}${redirect}`;
  if (ctx.forwardAuth === 'original-url') return { ...rest, headers: { ...rest.headers, location: login } };
  return { ...rest, redirect: login };
}

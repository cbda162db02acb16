// Forward-auth, the answering half: where proxy mode forwards, a forward-auth question ends in a
// small answer the proxy acts on. 200 carries the identity headers for the proxy to copy upstream;
// a refusal is the same rejection proxy mode would send, except where the proxy needs it otherwise.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamIdentity } from '../../auth/assertion.js';
import type { RequestContext, RoutedContext } from '../../context.js';
import type { Rejection } from '../../errors.js';
import { pushProductHeaders } from '../forward/headers.js';
import type { Services } from '../services.js';

type Flavor = RoutedContext['app']['identityHeaders'];

/**
 * An answer's header lines as one flat name/value array, slot 1 (the request id) left empty: built
 * once per identity × app and reused for every answer until the assertion is re-signed (a new
 * UpstreamIdentity object), so a cached allow builds no header object and re-derives nothing.
 * res.writeHead copies a flat array out synchronously, so the request id is written into the shared
 * array just before the call.
 */
const ANSWERS = new WeakMap<UpstreamIdentity, { flavor: Flavor; head: string[] }>();
/** A bypass, or an allow without an identity: the four headers, empty. */
const ANONYMOUS = answerHead(null, undefined);

/**
 * 200: the proxy lets the request through, copying the identity headers upstream. The four
 * X-Gatehouse-* headers are always there, empty when there is nothing to say (a bypass, an identity
 * without groups): proxies that copy a fixed list (Caddy's copy_headers, Traefik's
 * authResponseHeaders) then always overwrite a client's copy, and Caddy 2.6 would otherwise send
 * its unreplaced placeholder, "{http.reverse_proxy.header.…}", as the value.
 */
export function answerAllowed(ctx: RoutedContext, s: Services, res: ServerResponse | null, socket: Duplex | null): void {
  const head = ctx.identity && ctx.decision?.outcome === 'allow' ? identityHead(ctx, s) : ANONYMOUS;
  ctx.status = 200;
  head[1] = ctx.requestId;
  if (res) {
    res.writeHead(200, head);
    res.end();
  } else if (socket) {
    // The question itself came as an upgrade (a proxy that copies Connection: upgrade): answer it
    // as a plain response on the raw socket, as a refused upgrade is answered.
    let text = `HTTP/1.1 200 ${STATUS_CODES[200]}\r\nconnection: close\r\n`;
    for (let i = 0; i < head.length; i += 2) text += `${head[i]}: ${head[i + 1]}\r\n`;
    if (socket.writable) socket.end(`${text}\r\n`);
    else socket.destroy();
  }
}

/** The identity's answer for this app: the same values proxy mode sends upstream (pushIdentity). */
function identityHead(ctx: RoutedContext, s: Services): string[] {
  const app = ctx.app;
  const up = s.assertions.upstream(ctx.identity as NonNullable<RoutedContext['identity']>, app.audience, app.jwtAssertion);
  const known = ANSWERS.get(up);
  if (known !== undefined && known.flavor === app.identityHeaders) return known.head;
  const head = answerHead(up, app.identityHeaders);
  ANSWERS.set(up, { flavor: app.identityHeaders, head });
  return head;
}

function answerHead(up: UpstreamIdentity | null, flavor: Flavor): string[] {
  const email = up?.email ?? '';
  const sub = up?.userId ?? '';
  const groups = up?.groups ?? '';
  const assertion = up?.assertion ?? '';
  const head = [
    'x-request-id', '',
    'cache-control', 'no-store',
    'content-length', '0',
    'x-gatehouse-user-email', email,
    'x-gatehouse-user-id', sub,
    'x-gatehouse-user-groups', groups,
    'x-gatehouse-jwt-assertion', assertion,
  ];
  if (up) pushProductHeaders(head, up, flavor);
  return head;
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

// The data listener's lifecycle outside the request path: its limits, listening on an address,
// naming it, and draining it for a rolling restart. Draining order (docs/scale-out.md): the caller has
// already made /readyz fail; every response from now on says `Connection: close`, so no keep-alive
// connection is reused; for limits.drain_delay the listener still accepts (a health check takes the
// instance out of rotation meanwhile), then it stops accepting (a balancer's connect is refused, so it
// tries another instance); in-flight requests and open WebSockets go on until they end or
// limits.drain_timeout passes; WebSockets still open then get a 1001 "going away" close frame.
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ParserError } from '../context.js';
import type { GatewayConfig } from '../config/types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocketRegistry } from '../pipeline/forward/websockets.js';
import { MAX_HEADER_COUNT } from '../pipeline/request.js';
import { sendParserRejection } from '../pipeline/respond.js';

/** How long WebSocket peers get to finish the closing handshake before their sockets are cut. */
const GOING_AWAY_GRACE_MS = 1000;

/** The data listener's limits, at start and on every reload (all but max_header_size apply live). */
export function applyServerLimits(server: http.Server, config: GatewayConfig): void {
  const l = config.limits;
  server.headersTimeout = l.headersTimeoutMs;
  // Node's whole-request timeout is the ceiling: an app's longer request_timeout must fit under
  // it; the forwarder holds every other request body to its own app's limit.
  const perApp = config.apps.map((a) => a.requestTimeoutMs);
  server.requestTimeout = l.requestTimeoutMs === 0 || perApp.includes(0) ? 0 : Math.max(l.requestTimeoutMs, ...perApp);
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxConnections = l.maxConnections;
}

export function urlOf(server: http.Server, scheme: string): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `${scheme}://${host}:${a.port}`;
}

export function listenOn(server: http.Server, addr: string): Promise<void> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(addr.slice(i + 1));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Resolves once every connection has ended, or the drain timeout has passed and the rest are cut. */
export async function drain(server: http.Server, websockets: WebSocketRegistry, limits: { delayMs: number; timeoutMs: number }): Promise<void> {
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader('connection', 'close'));
  if (limits.delayMs > 0) await sleep(limits.delayMs);
  // Close from the check phase, right after a poll phase accepted every connection then waiting:
  // one still in the kernel's accept queue when the listener closes is reset, not refused, so the
  // balancer cannot retry it elsewhere (a timer fires before the poll phase, with the queue full).
  await new Promise((resolve) => setImmediate(resolve));
  // Stop accepting, but leave idle keep-alive connections open: http.Server#close() would close them
  // at once (Node ≥ 19), and a client may be sending its next request on one at that very moment —
  // it would get a reset instead of an answer. Each is closed by its client (told `Keep-Alive:
  // timeout=…`) or after keep_alive_timeout, whichever comes first; a request sent on one before
  // then is answered, with `Connection: close`.
  const ended = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  const timedOut = sleep(limits.timeoutMs, 'timeout' as const, { ref: false });
  if ((await Promise.race([ended, timedOut])) === 'timeout') {
    websockets.goingAway();
    await Promise.race([ended, sleep(GOING_AWAY_GRACE_MS, undefined, { ref: false })]);
  }
  server.closeAllConnections();
}

/** The data listener (http or https with optional client certificates), its limits applied. */
export function createDataServer(config: GatewayConfig, onParserError: (e: ParserError) => void = () => undefined): http.Server {
  const serverOpts: http.ServerOptions = {
    maxHeaderSize: config.limits.maxHeaderSize,
    // How often Node checks headers_timeout and request_timeout: fixed at start, so no shorter
    // than a reload could need (a limit below a second is not a real configuration).
    connectionsCheckingInterval: 1000,
  };
  const server = config.tls
    ? https.createServer({
        ...serverOpts,
        // The config holds PEM contents (read and checked at load).
        cert: config.tls.cert,
        key: config.tls.key,
        ...(config.tls.clientCa ? { ca: config.tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
      })
    : http.createServer(serverOpts);
  applyServerLimits(server, config);
  server.maxHeadersCount = MAX_HEADER_COUNT + 1; // one more, so that too many is seen and refused
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex & { remoteAddress?: string }) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    // Malformed at the HTTP level (Node's parser refused it): no context, but still a request id,
    // recorded as a decision so the administrator can look it up.
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'bad_request';
    const requestId = randomUUID();
    onParserError({ requestId, code, cause: `${err.code ?? 'parse error'}: ${err.message}`, clientIp: socket.remoteAddress ?? '', ...requestLine(err.rawPacket) });
    sendParserRejection(socket, code, requestId);
  });
  return server;
}

/** Method and path (no query) of a refused request's first line, if it is one; never more. */
function requestLine(raw: Buffer | undefined): { method: string; path: string } {
  const m = /^([A-Z]{1,16}) (\/[\x21-\x7e]{0,1024}?)(?:\?[\x21-\x7e]*)? HTTP\/1\.[01]\r?\n/.exec(raw?.subarray(0, 1100).toString('latin1') ?? '');
  return m ? { method: m[1] as string, path: m[2] as string } : { method: '', path: '' };
}

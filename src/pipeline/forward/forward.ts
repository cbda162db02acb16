// Stage 5 — forward: stream the request to the app's upstream and the answer back, both ways with
// backpressure and never buffered. Failures before the response headers become 502/504 pages;
// failures after them abort the client connection, so a truncated body never looks complete.
//
// Ordinary requests go through undici's dispatcher API (one keep-alive Pool per upstream); the
// benchmark measured it at 1.75x the throughput of http-proxy-3 over Node's HTTP client, at half
// the CPU per request. WebSocket upgrades go through http-proxy-3 (forward-ws.ts).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import type { AppConfig } from '../../config/types.js';
import type { RequestContext } from '../../context.js';
import { reject, type Rejection } from '../../errors.js';
import type { Logger } from '../../log.js';
import { WebSocketForwarder } from './forward-ws.js';
import { bodyUnread } from '../request.js';

export interface ForwardEvents {
  upstreamError(app: string, kind: 'refused' | 'timeout' | 'reset' | 'truncated'): void;
}

/** Response headers that describe the upstream connection, not the response. */
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate']);

// Only undici's Pool: the package's entry point also loads fetch, WebSocket and the rest, which
// costs about 9 MiB of resident memory per process for nothing we use.
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
type Pool = UndiciPool;

/** undici's errors for "no response headers in time" and "could not connect in time". */
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** The client went away: abort the upstream request, answer nothing. */
class ClientGone extends Error {}

export class Forwarder {
  private readonly pools = new Map<string, Pool>();
  private readonly routes = new WeakMap<AppConfig, UpstreamRoute>();
  private readonly ws: WebSocketForwarder;

  constructor(
    private readonly logger: Logger,
    private readonly events: ForwardEvents,
  ) {
    this.ws = new WebSocketForwarder(logger, events);
  }

  /**
   * Forward an ordinary request. `hasBody`: the client sent a body (content-length > 0 or chunked),
   * streamed upstream as it arrives. `onFail` answers with a page when nothing was sent yet.
   */
  web(ctx: RequestContext, res: ServerResponse, hasBody: boolean, onFail: (rej: Rejection) => void): void {
    const app = ctx.app as AppConfig;
    const req = ctx.req;
    const route = this.route(app);
    const handler = new ResponseRelay(ctx, res, app, onFail, this.events, this.logger);
    const options: Dispatcher.DispatchOptions & { servername?: string } = {
      path: route.base + ctx.path + ctx.query, // exactly the path we routed and evaluated
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers as Record<string, string | string[]>,
      servername: route.servername, // undici's Request takes it; its DispatchOptions type omits it
      body: hasBody ? req : null,
      headersTimeout: app.timeoutMs,
      bodyTimeout: app.idleTimeoutMs,
    };
    route.pool.dispatch(options, handler);
  }

  /** Forward a WebSocket upgrade (already authorized). */
  upgrade(ctx: RequestContext, socket: Duplex, head: Buffer, onFail: (rej: Rejection) => void): void {
    this.ws.forward(ctx, socket, head, onFail);
  }

  close(): void {
    this.ws.close();
    for (const pool of this.pools.values()) void pool.destroy().catch(() => undefined);
    this.pools.clear();
  }

  /**
   * Where an app's requests go: its pool and the upstream's base path, worked out once per app
   * config (a lookup by the long-lived AppConfig object; reloads get a new one).
   */
  private route(app: AppConfig): UpstreamRoute {
    let route = this.routes.get(app);
    if (!route) {
      const upstream = upstreamOf(app);
      const { hostname, pathname, protocol } = upstream;
      route = {
        pool: this.pool(app, upstream),
        base: pathname === '/' ? '' : pathname.replace(/\/$/, ''),
        // Without a servername undici derives one from the Host header we forward, per request (an
        // IPv6 regex over it, too): for an https upstream that would send the client's host as SNI
        // and verify the upstream's certificate against it. The upstream URL's own name is the one
        // to verify (nginx's proxy_ssl_name default too). An https upstream given by IP address
        // keeps undici's default (SNI may not be an IP address); plain http never uses it.
        servername: protocol === 'https:' && isIP(hostname.replace(/^\[|\]$/g, '')) ? undefined : hostname,
      };
      this.routes.set(app, route);
    }
    return route;
  }

  /** One keep-alive pool per upstream origin, CA and connect timeout, kept across config reloads. */
  private pool(app: AppConfig, upstream: URL): Pool {
    const key = `${upstream.origin}|${app.connectTimeoutMs}|${app.ca ?? ''}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(upstream.origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: app.connectTimeoutMs, ...(app.ca ? { ca: app.ca } : {}), rejectUnauthorized: true },
      });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** The upstream of an app served in proxy mode (route never sends anything else here). */
export function upstreamOf(app: AppConfig): URL {
  if (!app.upstream) throw new Error(`app ${app.name} has no upstream: it is served in forward_auth mode only`);
  return app.upstream;
}

interface UpstreamRoute {
  pool: Pool;
  /** The upstream URL's path, prefixed to every forwarded path ('' for /). */
  base: string;
  /** TLS server name (SNI and certificate check) for https upstreams. */
  servername: string | undefined;
}

/** Relays one upstream response to the client (undici's handler interface). */
class ResponseRelay implements Dispatcher.DispatchHandler {
  private started = false;
  private bytes = 0;

  constructor(
    private readonly ctx: RequestContext,
    private readonly res: ServerResponse,
    private readonly app: AppConfig,
    private readonly onFail: (rej: Rejection) => void,
    private readonly events: ForwardEvents,
    private readonly logger: Logger,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // A client that goes away aborts the upstream request.
    this.res.once('close', () => {
      if (!this.res.writableFinished && !controller.aborted) controller.abort(new ClientGone('client closed the connection'));
    });
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingMessage['headers'], statusMessage?: string): void {
    if (statusCode < 200) return; // 1xx informational: not relayed
    this.started = true;
    const res = this.res;
    if (res.destroyed) return;
    const out: OutgoingHttpHeaders = {};
    const nominated = headers.connection;
    const extra = typeof nominated === 'string' && nominated !== 'keep-alive' && nominated !== 'close' ? nominated.toLowerCase().split(',').map((s) => s.trim()) : null;
    for (const name in headers) {
      if (RESPONSE_HOP_BY_HOP.has(name) || (extra !== null && extra.includes(name))) continue;
      out[name] = headers[name];
    }
    out['x-request-id'] = this.ctx.requestId;
    if (bodyUnread(this.ctx.req)) out.connection = 'close'; // the upstream answered before the body was sent
    this.ctx.status = statusCode;
    res.writeHead(statusCode, statusMessage || undefined, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.ctx.bytes = this.bytes;
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    if (err instanceof ClientGone) return;
    if (this.started || this.res.headersSent) {
      // Truncated or stalled mid-body: abort the client connection so it cannot mistake the
      // response for complete.
      this.events.upstreamError(this.app.name, err.code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'truncated');
      this.res.destroy();
      return;
    }
    const code = err.code ?? (err.cause as { code?: string } | undefined)?.code;
    if (code !== undefined && TIMEOUTS.has(code)) {
      this.events.upstreamError(this.app.name, 'timeout');
      this.onFail(reject('upstream_timeout', 'upstream_timeout'));
      return;
    }
    this.events.upstreamError(this.app.name, code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'reset' : 'refused');
    this.logger.warn({ requestId: this.ctx.requestId, app: this.app.name, err: err.message, code }, 'upstream error');
    this.onFail(reject('upstream_unavailable', code ? code.toLowerCase() : 'upstream_error'));
  }
}

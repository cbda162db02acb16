// Stage 5 — forward: stream the request to the app's upstream and the answer back, both ways with
// backpressure and never buffered. Failures before the response headers become 502/504 pages;
// failures after them abort the client connection, so a truncated body never looks complete.
//
// Ordinary requests go through undici's dispatcher API (one keep-alive Pool per upstream); the
// benchmark measured it at 1.75x the throughput of http-proxy-3 over Node's HTTP client, at half
// the CPU per request. WebSocket upgrades go through http-proxy-3 (forward-ws.ts).
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import type { AppConfig } from '../../config/types.js';
import type { RoutedContext } from '../../context.js';
import { reject, type Rejection } from '../../errors.js';
import type { Logger } from '../../log.js';
import { WebSocketForwarder } from './forward-ws.js';
import { InFlight, ProgressWatch, type Watched } from './guards.js';
import { ResponseRelay, type ForwardEvents } from './relay.js';
import type { UpstreamRequest } from './headers.js';

export type { ForwardEvents } from './relay.js';

// Only undici's Pool: the package's entry point also loads fetch, WebSocket and the rest, which
// costs about 9 MiB of resident memory per process for nothing we use.
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
type Pool = UndiciPool;

/** Connections per upstream pool; requests beyond it wait for one (and that wait counts against the app's timeout). */
const POOL_CONNECTIONS = 256;

export class Forwarder {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly apps = new InFlight();
  private readonly watch = new ProgressWatch();
  private readonly routes = new WeakMap<AppConfig, UpstreamRoute>();
  private readonly ws: WebSocketForwarder;

  constructor(
    private readonly logger: Logger,
    private readonly events: ForwardEvents,
  ) {
    this.ws = new WebSocketForwarder(logger, events);
  }

  /**
   * Forward an ordinary request with the headers prepareUpstreamHeaders built. A body (`hasBody`:
   * content-length > 0 or chunked) is streamed upstream as it arrives. `onFail` answers with a page
   * when nothing was sent yet.
   */
  web(ctx: RoutedContext, res: ServerResponse, upstream: UpstreamRequest, onFail: (rej: Rejection) => void): void {
    const hasBody = upstream.hasBody;
    const app = ctx.app;
    const req = ctx.req;
    if (!this.apps.enter(app.name, app.maxInFlight)) {
      onFail(reject('service_unavailable', 'max_in_flight', { message: `${app.name} has ${app.maxInFlight} requests in flight (max_in_flight)` }));
      return;
    }
    const route = this.route(app);
    const entry = route.pool;
    const minRate = ctx.config.limits.minBodyRate;
    const handler = new ResponseRelay(ctx, res, app, onFail, this.events, this.logger, this.watch, minRate);
    // Every connection is taken: the request waits in the pool's queue, which undici's headersTimeout
    // does not cover. The app's timeout runs from now instead (a timer only under saturation).
    if (entry.inFlight >= POOL_CONNECTIONS) handler.startDeadline(app.timeoutMs);
    entry.inFlight++;
    let body: Watched | null = null;
    if (hasBody) {
      const deadline = app.requestTimeoutMs > 0 ? ctx.startedAt + app.requestTimeoutMs : Infinity;
      const socket = req.socket;
      body = this.watch.watch(() => socket.bytesRead, minRate, deadline, (why) =>
        handler.abandon(reject('request_timeout', why === 'too_slow' ? 'body_too_slow' : 'request_timeout')),
      );
      if (body !== null) req.once('end', () => this.watch.unwatch(body));
    }
    res.once('close', () => {
      this.apps.leave(app.name);
      entry.inFlight--;
      this.watch.unwatch(body);
      handler.clientClosed();
    });
    const options: Dispatcher.DispatchOptions & { servername?: string } = {
      path: route.base + ctx.path + ctx.query, // exactly the path we routed and evaluated
      method: req.method as Dispatcher.HttpMethod,
      headers: upstream.headers as string[],
      servername: route.servername, // undici's Request takes it; its DispatchOptions type omits it
      body: hasBody ? req : null,
      headersTimeout: app.timeoutMs,
      bodyTimeout: app.idleTimeoutMs,
    };
    entry.pool.dispatch(options, handler);
  }

  /** Forward a WebSocket upgrade (already authorized). */
  upgrade(ctx: RoutedContext, socket: Duplex, head: Buffer, onFail: (rej: Rejection) => void): void {
    this.ws.forward(ctx, socket, head, onFail);
  }

  close(): void {
    this.ws.close();
    for (const { pool } of this.pools.values()) void pool.destroy().catch(() => undefined);
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
  private pool(app: AppConfig, upstream: URL): PoolEntry {
    const key = `${upstream.origin}|${app.connectTimeoutMs}|${app.ca ?? ''}`;
    let entry = this.pools.get(key);
    if (!entry) {
      const pool = new Pool(upstream.origin, {
        connections: POOL_CONNECTIONS,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: app.connectTimeoutMs, ...(app.ca ? { ca: app.ca } : {}), rejectUnauthorized: true },
      });
      entry = { pool, inFlight: 0 };
      this.pools.set(key, entry);
    }
    return entry;
  }
}

/** The upstream of an app served in proxy mode (route never sends anything else here). */
export function upstreamOf(app: AppConfig): URL {
  if (!app.upstream) throw new Error(`app ${app.name} has no upstream: it is served in forward_auth mode only`);
  return app.upstream;
}

interface PoolEntry {
  pool: Pool;
  /** Requests dispatched to it and not yet closed (to tell when new ones will queue). */
  inFlight: number;
}

interface UpstreamRoute {
  pool: PoolEntry;
  /** The upstream URL's path, prefixed to every forwarded path ('' for /). */
  base: string;
  /** TLS server name (SNI and certificate check) for https upstreams. */
  servername: string | undefined;
}

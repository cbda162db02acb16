// Stage 5 — forward: stream the request to the app's upstream with http-proxy-3 and stream the
// answer back, both ways with backpressure and never buffered. Failures before the response
// headers become 502/504 pages; failures after them abort the client connection, so a truncated
// body never looks complete.
import http, { type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyServer, type ProxyServer, type ServerOptions } from 'http-proxy-3';
import type { AppConfig } from '../config/types.js';
import type { RequestContext } from '../context.js';
import { reject, type Rejection } from '../errors.js';
import type { Logger } from '../log.js';

/** Per-request forwarding state, found from `req` in http-proxy-3's events. */
interface Flight {
  ctx: RequestContext;
  res: ServerResponse | null;
  socket: Duplex | null;
  app: AppConfig;
  onFail: (rej: Rejection) => void;
  headersReceived: boolean;
  failed: boolean;
  /** Epoch ms by which response headers must have arrived (app `timeout`). */
  deadline: number;
  /** Epoch ms by which the upstream connection must be up (app `connect_timeout`). */
  connectDeadline: number;
  proxyReq: http.ClientRequest | null;
}

/** Response headers that describe the upstream connection, not the response. */
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate']);

export interface ForwardEvents {
  upstreamError(app: string, kind: 'refused' | 'timeout' | 'reset' | 'truncated'): void;
}

export class Forwarder {
  private readonly proxy: ProxyServer;
  private readonly agents = new Map<string, http.Agent>();
  /**
   * In-flight requests, found from `req` in http-proxy-3's events. A plain Map with an explicit
   * delete when the response closes: a WeakMap entry per request made every young-generation GC
   * process ephemerons and cost more than the rest of the gateway together (measured in bench/).
   */
  private readonly flights = new Map<IncomingMessage, Flight>();
  private readonly targets = new WeakMap<AppConfig, object>();
  private readonly sweeper = setInterval(() => this.sweep(), 250).unref();

  constructor(
    private readonly logger: Logger,
    private readonly events: ForwardEvents,
  ) {
    this.proxy = createProxyServer({ xfwd: false, ws: true, selfHandleResponse: true, secure: true, changeOrigin: false });
    // http-proxy-3 throws when nobody listens for 'error': an upstream fault must never crash us.
    this.proxy.on('error', (err: Error, req: IncomingMessage) => this.onError(err, req));
    this.proxy.on('econnreset', () => undefined); // the client went away; its close cleans up
    this.proxy.on('proxyReq', (proxyReq: http.ClientRequest, req: IncomingMessage) => this.onProxyReq(proxyReq, req));
    this.proxy.on('proxyReqWs', (proxyReq: http.ClientRequest, req: IncomingMessage) => this.onProxyReq(proxyReq, req));
    this.proxy.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => this.onResponse(proxyRes, req, res));
    this.proxy.on('open', () => undefined);
  }

  /** Forward an ordinary request. `onFail` answers with a page when nothing was sent yet. */
  web(ctx: RequestContext, res: ServerResponse, onFail: (rej: Rejection) => void): void {
    const app = ctx.app as AppConfig;
    const req = ctx.req;
    req.url = ctx.path + ctx.query; // forward exactly the path we routed and evaluated
    this.takeOff(ctx, res, null, onFail);
    res.once('close', () => this.flights.delete(req));
    this.proxy.web(req, res, { target: this.target(app), agent: this.agent(app), ca: app.ca } as ServerOptions);
  }

  /** Forward a WebSocket upgrade (already authorized). */
  ws(ctx: RequestContext, socket: Duplex, head: Buffer, onFail: (rej: Rejection) => void): void {
    const app = ctx.app as AppConfig;
    const req = ctx.req;
    req.url = ctx.path + ctx.query;
    this.takeOff(ctx, null, socket, onFail);
    socket.once('close', () => this.flights.delete(req));
    // Upgraded sockets leave the pool anyway: no agent.
    this.proxy.ws(req, socket as Socket, head, { target: this.target(app), agent: false, ca: app.ca } as ServerOptions);
  }

  private takeOff(ctx: RequestContext, res: ServerResponse | null, socket: Duplex | null, onFail: (rej: Rejection) => void): Flight {
    const app = ctx.app as AppConfig;
    const now = Date.now();
    const flight: Flight = {
      ctx,
      res,
      socket,
      app,
      onFail,
      headersReceived: false,
      failed: false,
      deadline: now + app.timeoutMs,
      connectDeadline: now + app.connectTimeoutMs,
      proxyReq: null,
    };
    this.flights.set(ctx.req, flight);
    return flight;
  }

  /**
   * One timer for every request in flight instead of one or two per request: checks the header
   * and connect deadlines every 250 ms (so a 504 comes within a quarter second of the timeout).
   */
  private sweep(now = Date.now()): void {
    for (const flight of this.flights.values()) {
      if (flight.headersReceived || flight.failed) continue;
      const connecting = flight.proxyReq?.socket?.connecting === true;
      if (now >= flight.deadline || (connecting && now >= flight.connectDeadline)) this.timeout(flight);
    }
  }

  /** Requests being forwarded right now. */
  get inFlight(): number {
    return this.flights.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private onProxyReq(proxyReq: http.ClientRequest, req: IncomingMessage): void {
    const flight = this.flights.get(req);
    if (!flight) return;
    flight.proxyReq = proxyReq;
    if (flight.socket) {
      proxyReq.on('upgrade', () => (flight.headersReceived = true));
      proxyReq.on('response', () => (flight.headersReceived = true));
    }
  }

  private onResponse(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const flight = this.flights.get(req);
    if (!flight || flight.failed) {
      proxyRes.destroy();
      return;
    }
    flight.headersReceived = true;
    if (res.destroyed) {
      proxyRes.destroy();
      return;
    }
    const headers = responseHeaders(proxyRes);
    headers['x-request-id'] = flight.ctx.requestId;
    res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, headers);
    flight.ctx.status = proxyRes.statusCode ?? 502;
    const length = proxyRes.headers['content-length'];
    if (length !== undefined) flight.ctx.bytes = Number(length);
    else {
      let bytes = 0;
      proxyRes.on('data', (chunk: Buffer) => (bytes += chunk.length));
      proxyRes.on('end', () => (flight.ctx.bytes = bytes));
    }
    // A streaming response is only cut when idle, never by the response-header timeout.
    proxyRes.setTimeout(flight.app.idleTimeoutMs, () => {
      this.events.upstreamError(flight.app.name, 'timeout');
      proxyRes.destroy();
      res.destroy();
    });
    proxyRes.on('close', () => {
      if (!proxyRes.complete) {
        // Truncated mid-body: abort the client connection so it cannot mistake it for complete.
        this.events.upstreamError(flight.app.name, 'truncated');
        res.destroy();
      }
    });
    proxyRes.pipe(res);
  }

  private onError(err: Error & { code?: string }, req: IncomingMessage): void {
    const flight = this.flights.get(req);
    if (!flight) return;
    if (flight.failed) return; // our own timeout already answered
    flight.failed = true;
    const reset = err.code === 'ECONNRESET' || err.message === 'socket hang up';
    this.events.upstreamError(flight.app.name, reset ? 'reset' : 'refused');
    if (flight.headersReceived || flight.res?.headersSent) {
      flight.res?.destroy();
      flight.socket?.destroy();
      return;
    }
    this.logger.warn({ requestId: flight.ctx.requestId, app: flight.app.name, err: err.message, code: err.code }, 'upstream error');
    flight.onFail(reject('upstream_unavailable', err.code ? err.code.toLowerCase() : 'upstream_error'));
  }

  private timeout(flight: Flight): void {
    if (flight.headersReceived || flight.failed) return;
    flight.failed = true;
    flight.proxyReq?.destroy();
    this.events.upstreamError(flight.app.name, 'timeout');
    flight.onFail(reject('upstream_timeout', 'upstream_timeout'));
  }



  private target(app: AppConfig): object {
    let t = this.targets.get(app);
    if (!t) {
      const u = app.upstream;
      const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
      t = { protocol: u.protocol, host, hostname: host, port, ...(u.pathname !== '/' ? { pathname: u.pathname.replace(/\/$/, '') } : {}) };
      this.targets.set(app, t);
    }
    return t;
  }

  /** One keep-alive agent per upstream origin (+CA), kept across config reloads. */
  private agent(app: AppConfig): http.Agent {
    const key = `${app.upstream.origin}|${app.ca ?? ''}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const opts = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
      agent = app.upstream.protocol === 'https:' ? new https.Agent({ ...opts, ca: app.ca }) : new http.Agent(opts);
      this.agents.set(key, agent);
    }
    return agent;
  }
}

function responseHeaders(proxyRes: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const nominated = proxyRes.headers.connection;
  const extra = typeof nominated === 'string' ? nominated.toLowerCase().split(',').map((s) => s.trim()) : null;
  for (const name in proxyRes.headers) {
    if (RESPONSE_HOP_BY_HOP.has(name) || (extra !== null && extra.includes(name))) continue;
    out[name] = proxyRes.headers[name];
  }
  return out;
}

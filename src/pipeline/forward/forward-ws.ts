// WebSocket upgrades, forwarded with http-proxy-3 (which splices the two sockets once the upstream
// answers 101). Ordinary requests go through undici (forward.ts).
import type http from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyServer, type ProxyServer, type ServerOptions } from 'http-proxy-3';
import type { AppConfig } from '../../config/types.js';
import type { RequestContext, RoutedContext } from '../../context.js';
import { reject, type Rejection } from '../../errors.js';
import type { Logger } from '../../log.js';
import { upstreamOf, type ForwardEvents } from './forward.js';

interface Upgrade {
  ctx: RequestContext;
  app: AppConfig;
  socket: Duplex;
  onFail: (rej: Rejection) => void;
  answered: boolean;
  failed: boolean;
  deadline: number;
  connectDeadline: number;
  proxyReq: http.ClientRequest | null;
}

export class WebSocketForwarder {
  private readonly proxy: ProxyServer;
  /** Upgrades waiting for the upstream's answer; a plain Map with explicit deletes (see forward.ts). */
  private readonly pending = new Map<IncomingMessage, Upgrade>();
  private readonly targets = new WeakMap<AppConfig, { target: object; agent: HttpsAgent | false }>();
  private readonly sweeper = setInterval(() => this.sweep(), 250).unref();

  constructor(
    private readonly logger: Logger,
    private readonly events: ForwardEvents,
  ) {
    this.proxy = createProxyServer({ xfwd: false, ws: true, secure: true, changeOrigin: false });
    // http-proxy-3 throws when nobody listens for 'error': an upstream fault must never crash us.
    this.proxy.on('error', (err: Error, req: IncomingMessage) => this.onError(err, req));
    this.proxy.on('econnreset', () => undefined);
    this.proxy.on('proxyReqWs', (proxyReq: http.ClientRequest, req: IncomingMessage) => this.onProxyReq(proxyReq, req));
  }

  forward(ctx: RoutedContext, socket: Duplex, head: Buffer, onFail: (rej: Rejection) => void): void {
    const app = ctx.app;
    const req = ctx.req;
    req.url = ctx.path + ctx.query; // forward exactly the path we routed and evaluated
    const now = Date.now();
    const up: Upgrade = { ctx, app, socket, onFail, answered: false, failed: false, deadline: now + app.timeoutMs, connectDeadline: now + app.connectTimeoutMs, proxyReq: null };
    this.pending.set(req, up);
    socket.once('close', () => this.pending.delete(req));
    const { target, agent } = this.target(app);
    this.proxy.ws(req, socket as Socket, head, { target, agent, ca: app.ca } as ServerOptions);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private onProxyReq(proxyReq: http.ClientRequest, req: IncomingMessage): void {
    const up = this.pending.get(req);
    if (!up) return;
    up.proxyReq = proxyReq;
    const answered = (): void => {
      up.answered = true;
      this.pending.delete(req);
    };
    proxyReq.on('upgrade', answered);
    proxyReq.on('response', answered);
  }

  /** Header and connect deadlines for every pending upgrade, checked every 250 ms. */
  private sweep(now = Date.now()): void {
    for (const up of this.pending.values()) {
      if (up.answered || up.failed) continue;
      const connecting = up.proxyReq?.socket?.connecting === true;
      if (now >= up.deadline || (connecting && now >= up.connectDeadline)) {
        up.failed = true;
        up.proxyReq?.destroy();
        this.events.upstreamError(up.app.name, 'timeout');
        up.onFail(reject('upstream_timeout', 'upstream_timeout'));
      }
    }
  }

  private onError(err: Error & { code?: string }, req: IncomingMessage): void {
    const up = this.pending.get(req);
    if (!up || up.failed) return;
    up.failed = true;
    this.events.upstreamError(up.app.name, err.code === 'ECONNRESET' ? 'reset' : 'refused');
    if (up.answered) {
      up.socket.destroy();
      return;
    }
    this.logger.warn({ requestId: up.ctx.requestId, app: up.app.name, err: err.message, code: err.code }, 'upstream error (websocket)');
    up.onFail(reject('upstream_unavailable', err.code ? err.code.toLowerCase() : 'upstream_error'));
  }

  private target(app: AppConfig): { target: object; agent: HttpsAgent | false } {
    let t = this.targets.get(app);
    if (!t) {
      const u = upstreamOf(app);
      const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
      t = {
        target: { protocol: u.protocol, host, hostname: host, port, ...(u.pathname !== '/' ? { pathname: u.pathname.replace(/\/$/, '') } : {}) },
        // Upgraded sockets leave any pool anyway: no keep-alive. For https, an agent only to name
        // the server: Node would otherwise take SNI and the certificate check from the Host header
        // we forward (the client's host), as undici would (see forward.ts).
        agent: u.protocol === 'https:' && !isIP(host) ? new HttpsAgent({ keepAlive: false, servername: host }) : false,
      };
      this.targets.set(app, t);
    }
    return t;
  }
}

// The road every request walks, in one ordered list:
//
//   route ─▶ authenticate ─▶ endpoints ─▶ authorize ─▶ record ─▶ forward
//    400/404   (never rejects)  /.gatehouse/*  401/302/403  (never waits)  502/504
//
// A forward-auth question (/.gatehouse/auth, from a proxy in front) walks the same list about the
// proxy's request and ends in an answer instead of forward: 200 with the identity headers.
//
// A stage returns undefined to pass, a Rejection (an expected "no", as a value) or HANDLED when it
// answered itself. `throw` is for bugs: it becomes a 500 with the request id. Stages only return a
// Promise when they must wait (a cache miss); the runner stays synchronous otherwise.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ConfigManager } from '../config/watch.js';
import { isRouted, outcomeOf, type RequestContext, type RoutedContext } from '../context.js';
import { reject, type Rejection } from '../errors.js';
import { authenticate } from './authenticate.js';
import { authorize } from './authorize.js';
import { endpoints, HANDLED } from './endpoints.js';
import { answerAllowed, forwardAuthRejection } from './forward-auth/answer.js';
import { InFlight } from './forward/guards.js';
import { prepareUpstreamHeaders } from './forward/headers.js';
import { record } from './record.js';
import { createContext } from './context.js';
import { sendRejection, sendUpgradeRejection } from './respond.js';
import { route } from './route.js';
import type { Services } from './services.js';

type StageResult = Rejection | typeof HANDLED | undefined;
/** A stage after route: the app is known (RoutedContext). */
type Stage = (ctx: RoutedContext, s: Services, res: ServerResponse | null) => StageResult | Promise<StageResult>;

/** The road, in order: `route` first (it finds the app, or refuses), then these, then forward. */
export const STAGES: readonly Stage[] = [authenticate, endpoints, authorize, record];

interface Transport {
  res: ServerResponse | null;
  socket: Duplex | null;
  head: Buffer | null;
}

export class Pipeline {
  /** Requests in flight per client address (limits.max_in_flight_per_ip). */
  private readonly perIp = new InFlight();

  constructor(
    private readonly configs: ConfigManager,
    private readonly s: Services,
  ) {}

  /** The data listener's 'request' handler. */
  handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = this.createContext(req, false);
    const ip = ctx.clientIp;
    // Before anything else, credentials included: one address cannot hold every upstream connection.
    if (!this.perIp.enter(ip, ctx.config.limits.maxInFlightPerIp)) {
      res.once('close', () => this.finished(ctx, res));
      sendRejection(ctx, res, reject('too_many_requests', 'max_in_flight_per_ip'));
      return;
    }
    res.once('close', () => {
      this.perIp.leave(ip);
      this.finished(ctx, res);
    });
    this.start(ctx, { res, socket: null, head: null });
  };

  /** The data listener's 'upgrade' handler: WebSockets walk the same road. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const ctx = this.createContext(req, true);
    if (upgrade !== 'websocket') {
      // h2c and other upgrades are never forwarded.
      sendUpgradeRejection(ctx, socket, reject('bad_request', 'unsupported_upgrade', { message: 'only WebSocket upgrades are supported' }));
      return;
    }
    socket.once('close', () => this.finished(ctx, null));
    this.start(ctx, { res: null, socket, head });
  };

  private createContext(req: IncomingMessage, upgrade: boolean): RequestContext {
    return createContext(req, this.configs.current, upgrade);
  }

  /** route, then the routed stages: from here on the context's app is known. */
  private start(ctx: RequestContext, t: Transport): void {
    let rejected: Rejection | undefined;
    try {
      rejected = route(ctx);
    } catch (err) {
      this.fail(ctx, t, err);
      return;
    }
    if (rejected) this.stop(ctx, t, rejected);
    else if (!isRouted(ctx)) this.fail(ctx, t, new Error('route passed without an app'));
    else this.runFrom(0, ctx, t);
  }

  private runFrom(start: number, ctx: RoutedContext, t: Transport): void {
    for (let i = start; i < STAGES.length; i++) {
      let result: StageResult | Promise<StageResult>;
      try {
        result = (STAGES[i] as Stage)(ctx, this.s, t.res);
      } catch (err) {
        this.fail(ctx, t, err);
        return;
      }
      if (result instanceof Promise) {
        result.then(
          (r) => (r === undefined ? this.runFrom(i + 1, ctx, t) : this.stop(ctx, t, r)),
          (err: unknown) => this.fail(ctx, t, err),
        );
        return;
      }
      if (result !== undefined) {
        this.stop(ctx, t, result);
        return;
      }
    }
    if (ctx.forwardAuth === undefined) this.forward(ctx, t);
    else answerAllowed(ctx, this.s, t.res, t.socket);
  }

  private stop(ctx: RequestContext, t: Transport, r: Rejection | typeof HANDLED): void {
    if (r === HANDLED) return;
    ctx.rejection = r;
    this.s.recorder.rejected(ctx, r);
    this.respond(ctx, t, r);
  }

  private respond(ctx: RequestContext, t: Transport, rej: Rejection): void {
    const r = ctx.forwardAuth === undefined ? rej : forwardAuthRejection(ctx, rej);
    if (t.res) sendRejection(ctx, t.res, r);
    else if (t.socket) sendUpgradeRejection(ctx, t.socket, r);
  }

  private fail(ctx: RequestContext, t: Transport, err: unknown): void {
    this.s.logger.error({ err, requestId: ctx.requestId }, 'request failed');
    this.stop(ctx, t, reject('internal_error', 'internal_error'));
  }

  private forward(ctx: RoutedContext, t: Transport): void {
    if (ctx.app.builtin) {
      // Gatehouse's own app (the console): no upstream, no WebSocket.
      if (!t.res || !this.s.builtin) return this.stop(ctx, t, reject('route_not_found', 'no_route'));
      const res = t.res;
      this.s.builtin.serve(ctx, res).catch((err: unknown) => (res.headersSent ? res.destroy(err as Error) : this.fail(ctx, t, err)));
      return;
    }
    try {
      const upstream = prepareUpstreamHeaders(ctx, this.s, ctx.trustedPeer);
      // A 502/504 page shows its request id: recorded like a rejection, so the id can be looked up.
      const onFail = (rej: Rejection): void => this.stop(ctx, t, rej);
      if (t.res) this.s.forwarder.web(ctx, t.res, upstream, onFail);
      else if (t.socket) {
        this.s.websockets.track(ctx, t.socket);
        this.s.forwarder.upgrade(ctx, t.socket, t.head ?? Buffer.alloc(0), onFail);
      }
    } catch (err) {
      this.fail(ctx, t, err);
    }
  }

  /** Access log and metrics, once per request, when the response is done (or aborted). */
  private finished(ctx: RequestContext, res: ServerResponse | null): void {
    const status = res ? (res.headersSent ? res.statusCode : 499) : (ctx.status ?? 101);
    const seconds = (performance.now() - ctx.startedAt) / 1000;
    this.s.metrics.request(ctx, status, seconds);
    const log = this.s.logger;
    if (log.isLevelEnabled('info')) {
      log.info(
        {
          type: 'access',
          requestId: ctx.requestId,
          clientIp: ctx.clientIp,
          app: ctx.app?.name,
          method: ctx.method,
          host: ctx.host,
          path: ctx.path,
          status,
          bytes: ctx.bytes,
          durationMs: Math.round(seconds * 1e4) / 10,
          user: ctx.identity?.email ?? ctx.identity?.subject,
          decision: outcomeOf(ctx),
          policy: ctx.decision?.policy ?? undefined,
          reason: ctx.rejection?.reason ?? (ctx.decision && ctx.decision.outcome === 'deny' ? ctx.decision.reason : undefined),
          ws: ctx.upgrade || undefined,
          forwardAuth: ctx.forwardAuth,
        },
        'request',
      );
    }
  }
}


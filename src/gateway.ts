// Composition root: config watcher, store, caches, pipeline and both listeners, wired once.
// Order of shutdown matters: /readyz fails, stop accepting, drain in-flight requests and WebSockets
// (process/listeners.ts), flush the audit queue, close the store.
import http from 'node:http';
import { ConfigManager } from './config/watch.js';
import type { GatewayConfig } from './config/types.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { loadOrCreateKeySet, type KeySet } from './auth/keys.js';
import { KeyReloader } from './auth/key-reload.js';
import { RevocationSet } from './auth/revocations.js';
import { Revoker } from './auth/revoker.js';
import { Authenticator } from './auth/authenticator.js';
import { AssertionSigner } from './auth/assertion.js';
import { openAdminReader, openStore } from './store/open.js';
import { RecordWriter } from './audit/writer.js';
import { startRetention } from './audit/retention.js';
import type { RevocationState, Store } from './store/types.js';
import { Forwarder } from './pipeline/forward/forward.js';
import { Pipeline } from './pipeline/index.js';
import { Recorder } from './audit/recorder.js';
import { WebSocketRegistry } from './pipeline/forward/websockets.js';
import { IdentityOverlay } from './identity/overlay.js';
import { StaleIdentities } from './identity/stale.js';
import { LiveIdentity } from './identity/live.js';
import type { IdentityChanges } from './identity/changes.js';
import type { GatehouseEndpoints, GatehouseReceiver, Services } from './pipeline/services.js';
import { AdminRouter, AdminTokens, createAdminServer } from './admin/server.js';
import type { AdminDeps, AdminHost } from './admin/deps.js';
import type { LoginHost } from './login/install.js';
import { registerOps } from './admin/ops.js';
import { applyServerLimits, createDataServer, drain, listenOn, urlOf } from './process/listeners.js';

/** How long a stopping gateway at least retries writing its audit queue to a store that is away. */
const MIN_FLUSH_RETRY_MS = 5000;

export interface GatewayOptions {
  configFile: string;
  logger?: Logger;
  /** Override listen addresses (tests use port 0). */
  listen?: { data?: string; admin?: string };
  /** Serve the admin listener (default true; with `workers`, only worker 1 does). */
  admin?: boolean;
  /** Hook for modules that need the wired services (login endpoints, admin API). */
  extend?: (g: Gateway) => Promise<void> | void;
}

/** Admin and login get only the narrow host interfaces (checked here), never this class's type. */
export class Gateway implements AdminHost, LoginHost {
  readonly startedAt = new Date();
  dataServer!: http.Server;
  adminServer!: http.Server;
  readonly adminRouter = new AdminRouter();
  private adminTokens = new AdminTokens();
  private retention?: { stop(): void };
  private closing?: Promise<void>;
  private serveAdmin = true;
  /** Set by close(): /readyz fails from that moment on, so load balancers stop sending traffic. */
  draining = false;
  /** The one way every channel (SCIM, back-channel logout, SSF, refresh …) changes a live identity. */
  readonly identityChanges: IdentityChanges;
  private readonly live: LiveIdentity;
  /** Revocation for every caller: durable in the store, then refused in memory. */
  readonly revoker: Revoker;
  readonly adminDeps: AdminDeps;

  private constructor(
    readonly configs: ConfigManager,
    readonly logger: Logger,
    readonly store: Store,
    readonly writer: RecordWriter,
    readonly services: Services,
  ) {
    const revoker = (this.revoker = new Revoker(store, services.revocations, () => writer.flush()));
    this.adminDeps = {
      store,
      revoker,
      config: () => configs.current,
      flush: () => writer.flush(),
      recentAllowed: services.recorder.recentAllowed,
    };
    // Every revocation, approval and lockout lift made through the admin API or the console.
    this.adminRouter.actionSink = (a) =>
      store.actions.record(a).catch((err: unknown) => logger.error({ err, action: a.action, target: a.target, actor: a.actor }, 'admin action done but not recorded in the admin actions audit'));
    this.identityChanges = this.live = new LiveIdentity({
      store,
      overlay: services.identities,
      logger,
      flush: () => writer.flush(),
      revokeSessions: (ids, by, reason, history) => revoker.revokeSessions(ids, by, reason, history),
      providersWithIssuer: (issuer) => configs.current.identityProviders.filter((p) => p.issuer === issuer).map((p) => p.id),
    });
  }

  static async start(opts: GatewayOptions): Promise<Gateway> {
    const logger = opts.logger ?? createLogger();
    // What has been started so far, stopped in reverse if a later step fails (a refused start
    // must not leave watchers, timers or open files behind).
    const undo: Array<() => unknown> = [];
    try {
      const configs = await ConfigManager.start(opts.configFile, logger);
      undo.push(() => configs.close());
      const config = configs.current;
      logger.level = config.logLevel;

      const keys = await loadOrCreateKeySet(config.session.keysFile);
      const store = await openStore(config.store, logger);
      undo.push(() => store.close());
      const writer = new RecordWriter(store, { queueLimit: config.store.queueLimit, logger });
      undo.push(() => writer.close());
      const initial = await store.loadRevocations();
      const services = await createServices(config, keys, store, writer, logger, undo, initial);
      const { revocations, identities, metrics, authenticator } = services;
      const g = new Gateway(configs, logger, store, writer, services);
      await g.live.load(initial.identities ?? []);
      // Revocations and identity changes made by other instances (PostgreSQL), as they happen.
      store.watchRevocations?.((update) => {
        revocations.load(update);
        if (update.identities?.length) g.live.load(update.identities).catch((err: unknown) => logger.warn({ err }, 'loading changed identities failed'));
      });
      revocations.on('revoked', (e) => 'sessionId' in e && identities.forget([e.sessionId]));
      g.serveAdmin = opts.admin !== false;
      if (g.serveAdmin) {
        // The admin API reads off the data plane's event loop (SQLite: a worker thread).
        const admin = await openAdminReader(store);
        undo.push(() => admin.close());
        g.onClose(() => admin.close());
        g.adminDeps.store = admin.reader;
      }
      g.adminTokens = (await AdminTokens.load(config.admin.tokensFile)).warnWeak(g.serveAdmin ? logger : undefined);
      registerOps(g.adminRouter, { configs, metrics, store, writer, authenticator, startedAt: g.startedAt, draining: () => g.draining });
      const keyReloader = new KeyReloader(keys, (k) => g.useKeys(k), logger).start();
      undo.push(() => keyReloader.close());
      g.onClose(() => keyReloader.close());
      configs.on('reload', () => void keyReloader.check('config reload'));
      configs.on('reload', (next: GatewayConfig) => void g.onReload(next));
      configs.on('reloadFailed', () => metrics.reload(false));
      const retention = startRetention(store, () => configs.current.audit.retentionMs, logger);
      g.retention = retention;
      undo.push(() => retention.stop());
      if (opts.extend) await opts.extend(g);
      undo.push(() => g.dataServer?.close());
      await g.listen(config, opts.listen);
      return g;
    } catch (err) {
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch {
          // best effort: the original error is the one to report
        }
      }
      throw err;
    }
  }

  private readonly closeHooks: Array<() => unknown> = [];

  /** Modules that hold resources (watchers, timers) release them here when the gateway stops. */
  onClose(hook: () => unknown): void {
    this.closeHooks.push(hook);
  }

  /** A reloaded key file: signs and verifies from the next request on (old keys keep verifying). */
  private async useKeys(keys: KeySet): Promise<void> {
    this.services.keys = keys;
    this.services.assertions = new AssertionSigner(keys);
    await this.services.authenticator.update(this.configs.current, keys);
  }

  /** Set by the login module: /.gatehouse/login, callback, logout, identity. */
  setEndpoints(endpoints: GatehouseEndpoints): void {
    this.services.endpoints = endpoints;
  }

  /** The admin tokens in force (reloaded with the config): the console's sign-in checks them. */
  get adminTokenSet(): AdminTokens {
    return this.adminTokens;
  }

  /** A machine-to-machine endpoint under /.gatehouse/ (shared signals …), tried before login's. */
  addReceiver(receiver: GatehouseReceiver): void {
    (this.services.receivers ??= []).push(receiver);
  }

  get dataUrl(): string {
    return urlOf(this.dataServer, this.configs.current.tls ? 'https' : 'http');
  }

  get adminUrl(): string {
    return urlOf(this.adminServer, 'http');
  }

  private async onReload(next: GatewayConfig): Promise<void> {
    this.services.metrics.reload(true);
    this.logger.level = next.logLevel;
    if (this.dataServer) applyServerLimits(this.dataServer, next);
    try {
      await this.services.authenticator.update(next);
      this.adminTokens = (await AdminTokens.load(next.admin.tokensFile)).warnWeak(this.serveAdmin ? this.logger : undefined);
    } catch (err) {
      this.logger.error({ err }, 'applying reloaded config failed');
    }
  }

  private async listen(config: GatewayConfig, override: GatewayOptions['listen']): Promise<void> {
    const pipeline = new Pipeline(this.configs, this.services);
    this.dataServer = createDataServer(config, (e) => this.services.recorder.parserError(e, this.configs.current.hash));
    this.dataServer.on('request', pipeline.handleRequest);
    this.dataServer.on('upgrade', pipeline.handleUpgrade);
    this.adminServer = createAdminServer(this.adminRouter, () => this.adminTokens, this.logger);
    await listenOn(this.dataServer, override?.data ?? `${config.listen.host}:${config.listen.port}`);
    if (this.serveAdmin) await listenOn(this.adminServer, override?.admin ?? `${config.admin.listen.host}:${config.admin.listen.port}`);
    this.logger.info({ data: this.dataUrl, admin: this.serveAdmin ? this.adminUrl : undefined, apps: config.apps.length, config: config.hash }, 'gatehouse listening');
  }

  /** Graceful stop: no new connections, in-flight requests drain (bounded), records flushed. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.draining = true;
    const limits = this.configs.current.limits;
    await drain(this.dataServer, this.services.websockets, { delayMs: limits.drainDelayMs, timeoutMs: limits.drainTimeoutMs });
    this.services.websockets.close();
    this.services.forwarder.close();
    if (this.adminServer.listening) {
      await new Promise<void>((resolve) => {
        this.adminServer.close(() => resolve());
        this.adminServer.closeAllConnections();
      });
    }
    this.retention?.stop();
    for (const hook of this.closeHooks) {
      try {
        await hook();
      } catch (err) {
        this.logger.warn({ err }, 'a module failed to stop cleanly');
      }
    }
    this.configs.close();
    this.services.authenticator.close();
    // Flushes; a store that is away is retried for up to drain_timeout (at least 5 s), then what could
    // not be written is logged as lost.
    await this.writer.close({ retryForMs: Math.max(MIN_FLUSH_RETRY_MS, limits.drainTimeoutMs) });
    await this.store.close();
    this.logger.info('gatehouse stopped');
  }
}

/**
 * The long-lived parts the stages use, wired once: the gateway builds them here, and the stage
 * tests build theirs with this same function. `undo` collects what to stop if a later step fails.
 */
export async function createServices(
  config: GatewayConfig,
  keys: KeySet,
  store: Store,
  writer: RecordWriter,
  logger: Logger,
  undo: Array<() => unknown>,
  initial: RevocationState,
): Promise<Services> {
  const revocations = new RevocationSet();
  revocations.load(initial);
  const authenticator = await Authenticator.create(config, keys, revocations, logger);
  undo.push(() => authenticator.close());
  const identities = new IdentityOverlay();
  const stale = new StaleIdentities();
  const websockets = new WebSocketRegistry(revocations, identities, undefined, stale);
  undo.push(() => websockets.close());
  const metrics = new Metrics({
    cache: () => authenticator.cacheStats(),
    audit: () => writer.stats(),
    issuers: () => authenticator.status(),
    revoked: () => revocations.size,
    websockets: () => websockets.size,
  });
  const forwarder = new Forwarder(logger, { upstreamError: (app, kind) => metrics.upstreamError(app, kind) });
  undo.push(() => forwarder.close());
  return {
    logger,
    metrics,
    authenticator,
    revocations,
    assertions: new AssertionSigner(keys),
    keys,
    recorder: new Recorder(writer, identities),
    forwarder,
    websockets,
    identities,
    stale,
  };
}

// Composition root: config watcher, store, caches, pipeline and both listeners, wired once.
// Order of shutdown matters: stop accepting, drain in-flight requests, flush the audit queue,
// close the store.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ConfigManager } from './config/watch.js';
import type { GatewayConfig } from './config/types.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { loadOrCreateKeySet } from './auth/keys.js';
import { RevocationSet } from './auth/revocations.js';
import { Authenticator } from './auth/authenticator.js';
import { AssertionSigner } from './auth/assertion.js';
import { openStore } from './store/open.js';
import { RecordWriter } from './audit/writer.js';
import { startRetention } from './audit/retention.js';
import type { Store } from './store/types.js';
import { Forwarder } from './pipeline/forward/forward.js';
import { Pipeline } from './pipeline/index.js';
import { MAX_HEADER_COUNT } from './pipeline/request.js';
import { Recorder } from './audit/recorder.js';
import { WebSocketRegistry } from './pipeline/forward/websockets.js';
import { IdentityOverlay } from './identity/overlay.js';
import { LiveIdentity } from './identity/live.js';
import type { IdentityChanges } from './identity/changes.js';
import type { GatehouseEndpoints, Services } from './pipeline/services.js';
import { AdminRouter, AdminTokens, createAdminServer } from './admin/server.js';
import { registerOps } from './admin/ops.js';

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

export class Gateway {
  readonly startedAt = new Date();
  dataServer!: http.Server;
  adminServer!: http.Server;
  readonly adminRouter = new AdminRouter();
  private adminTokens = new AdminTokens();
  private retention?: { stop(): void };
  private closing?: Promise<void>;
  private serveAdmin = true;
  /** The one way every channel (SCIM, back-channel logout, SSF, refresh …) changes a live identity. */
  readonly identityChanges: IdentityChanges;

  private constructor(
    readonly configs: ConfigManager,
    readonly logger: Logger,
    readonly store: Store,
    readonly writer: RecordWriter,
    readonly services: Services,
  ) {
    this.identityChanges = new LiveIdentity({
      store,
      overlay: services.identities,
      logger,
      flush: () => writer.flush(),
      revokeSessions: (ids, by, reason) => this.revokeSessions(ids, by, reason),
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
      const revocations = new RevocationSet();
      revocations.load(await store.loadRevocations());
      store.watchRevocations?.((update) => revocations.load(update));
      const authenticator = await Authenticator.create(config, keys, revocations, logger);
      undo.push(() => authenticator.close());
      const identities = new IdentityOverlay();
      const websockets = new WebSocketRegistry(revocations, identities);
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
      const services: Services = {
        logger,
        metrics,
        authenticator,
        revocations,
        assertions: new AssertionSigner(keys),
        keys,
        recorder: new Recorder(writer),
        forwarder,
        websockets,
        identities,
      };
      const g = new Gateway(configs, logger, store, writer, services);
      g.serveAdmin = opts.admin !== false;
      g.adminTokens = await AdminTokens.load(config.admin.tokensFile);
      registerOps(g.adminRouter, { configs, metrics, store, writer, authenticator, startedAt: g.startedAt });
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

  /** Set by the login module: /.gatehouse/login, callback, logout, identity. */
  setEndpoints(endpoints: GatehouseEndpoints): void {
    this.services.endpoints = endpoints;
  }

  /**
   * Revoke one session everywhere: durable in the store first (a failure throws and nothing is
   * claimed), then refused by this process's in-memory set on the very next request.
   */
  async revokeSession(id: string, by: string, reason: string): Promise<boolean> {
    // A session seen moments ago may still sit in the write queue: write it first.
    await this.writer.flush();
    const known = await this.store.revokeSession(id, by, reason, Date.now());
    if (known) this.services.revocations.revokeSession(id);
    return known;
  }

  /** Log a user out everywhere; returns the revoked session ids. */
  revokeUser(email: string, by: string, reason: string): Promise<string[]> {
    return this.revokeEach((at) => this.store.revokeUser(email, by, reason, at));
  }

  /** End one sign-in everywhere: every session linked to it (login_id); returns their ids. */
  revokeLogin(loginId: string, by: string, reason: string): Promise<string[]> {
    return this.revokeEach((at) => this.store.revokeLogin(loginId, by, reason, at));
  }

  private async revokeEach(write: (at: number) => Promise<string[]>): Promise<string[]> {
    await this.writer.flush();
    const ids = await write(Date.now());
    for (const id of ids) this.services.revocations.revokeSession(id);
    return ids;
  }

  /** Revokes these sessions (already flushed by the caller); returns the ids the store knew. */
  async revokeSessions(ids: string[], by: string, reason: string): Promise<string[]> {
    const at = Date.now();
    const known: string[] = [];
    for (const id of ids) {
      if (await this.store.revokeSession(id, by, reason, at)) {
        this.services.revocations.revokeSession(id);
        known.push(id);
      }
    }
    return known;
  }

  /** Every session issued before now must log in again to use this app. */
  async revokeApp(app: string): Promise<number> {
    const at = Date.now();
    await this.store.revokeApp(app, at);
    this.services.revocations.revokeAppBefore(app, at);
    return at;
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
      this.adminTokens = await AdminTokens.load(next.admin.tokensFile);
    } catch (err) {
      this.logger.error({ err }, 'applying reloaded config failed');
    }
  }

  private async listen(config: GatewayConfig, override: GatewayOptions['listen']): Promise<void> {
    const pipeline = new Pipeline(this.configs, this.services);
    const l = config.limits;
    const serverOpts: http.ServerOptions = {
      maxHeaderSize: l.maxHeaderSize,
      // How often Node checks headers_timeout and request_timeout: fixed at start, so no shorter
      // than a reload could need (a limit below a second is not a real configuration).
      connectionsCheckingInterval: 1000,
    };
    this.dataServer = config.tls
      ? https.createServer({
          ...serverOpts,
          // The config holds PEM contents (read and checked at load).
          cert: config.tls.cert,
          key: config.tls.key,
          ...(config.tls.clientCa ? { ca: config.tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        })
      : http.createServer(serverOpts);
    applyServerLimits(this.dataServer, config);
    this.dataServer.maxHeadersCount = MAX_HEADER_COUNT + 1; // one more, so that too many is seen and refused

    this.dataServer.on('request', pipeline.handleRequest);
    this.dataServer.on('upgrade', pipeline.handleUpgrade);
    this.dataServer.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      // Malformed at the HTTP level (Node's parser refused it): no context, but still a request id.
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const requestId = randomUUID();
      const body = JSON.stringify({ error: 'bad_request', status, message: http.STATUS_CODES[status], request_id: requestId });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json\r\nx-request-id: ${requestId}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
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
    const drainMs = this.configs.current.limits.drainTimeoutMs;
    const drained = new Promise<void>((resolve) => this.dataServer.close(() => resolve()));
    this.dataServer.closeIdleConnections();
    // WebSockets are conversations, not requests: nothing to drain, close them now.
    this.services.websockets.close();
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref());
    await Promise.race([drained, deadline]);
    this.dataServer.closeAllConnections();
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
    await this.writer.close(); // flushes; logs what could not be written
    await this.store.close();
    this.logger.info('gatehouse stopped');
  }
}

/** The data listener's limits, at start and on every reload (all but max_header_size apply live). */
function applyServerLimits(server: http.Server, config: GatewayConfig): void {
  const l = config.limits;
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxConnections = l.maxConnections;
}

function urlOf(server: http.Server, scheme: string): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `${scheme}://${host}:${a.port}`;
}

function listenOn(server: http.Server, addr: string): Promise<void> {
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

// Prometheus metrics (prom-client), one registry per gateway. Per-request work is a Map lookup of
// a pre-labelled child plus two increments: label hashing happens once per label combination.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Aggregator } from 'prom-client';
import { outcomeOf, type RequestContext } from './context.js';

export interface GaugeSources {
  cache?: () => { entries: number; bytes: number; hits: number; misses: number };
  audit?: () => { queued: number; dropped: number; healthy: boolean; written?: number; failures?: number };
  issuers?: () => Array<{ issuer: string; stale: boolean; ready: boolean }>;
  revoked?: () => number;
  websockets?: () => number;
}

export const LEGACY_PROCESS_PREFIX = 'gatehouse_process_';

export class Metrics {
  readonly registry = new Registry();
  /**
   * With `workers: N`, set in worker 1 (see cluster.ts): every worker's metrics, aggregated by the
   * primary, or null when the primary does not answer in time.
   */
  collectCluster: (() => Promise<string | null>) | null = null;
  private readonly requests: Counter<'app' | 'status' | 'decision'>;
  private readonly latency: Histogram<'app'>;
  private readonly upstreamErrors: Counter<'app' | 'kind'>;
  private readonly reloads: Counter<'result'>;
  private readonly refreshes: Counter<'idp' | 'outcome'>;
  private readonly children = new Map<string, { count: Counter.Internal; latency: Histogram.Internal<'app'> }>();

  constructor(sources: GaugeSources = {}, defaults = true) {
    const registers = [this.registry];
    if (defaults) {
      // Node's process metrics as gatehouse_process_cpu_seconds_total, gatehouse_nodejs_heap_… .
      collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
      // Deprecated: the same under the old prefix (gatehouse_process_process_cpu_seconds_total, with
      // the word twice), kept for one release so existing dashboards keep working; removed in 0.3.
      collectDefaultMetrics({ register: this.registry, prefix: LEGACY_PROCESS_PREFIX });
    }
    this.requests = new Counter({ name: 'gatehouse_requests_total', help: 'Requests by app, status and decision.', labelNames: ['app', 'status', 'decision'], registers });
    this.latency = new Histogram({
      name: 'gatehouse_request_duration_seconds',
      help: 'Time from request to response end, by app.',
      labelNames: ['app'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.upstreamErrors = new Counter({ name: 'gatehouse_upstream_errors_total', help: 'Upstream failures by app and kind (refused, reset, timeout, truncated, slow_client: the gateway gave up on a too slow client).', labelNames: ['app', 'kind'], registers });
    this.reloads = new Counter({ name: 'gatehouse_config_reloads_total', help: 'Config reloads by result (success, failure).', labelNames: ['result'], registers });
    this.refreshes = new Counter({
      name: 'gatehouse_identity_refreshes_total',
      help: 'Identity refreshes by provider and outcome (unchanged, changed, revoked, unreachable, stale).',
      labelNames: ['idp', 'outcome'],
      registers,
    });
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);

    // `aggregator`: how the workers' values combine under `workers: N` (counters and histograms sum).
    const gauge = (name: string, help: string, collect: () => number | void, labelNames: string[] = [], aggregator: Aggregator = 'sum') =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        aggregator,
        collect() {
          const v = collect.call(this);
          if (typeof v === 'number') this.set(v);
        },
      });
    const { cache, audit, issuers, revoked, websockets } = sources;
    if (cache) {
      gauge('gatehouse_token_cache_entries', 'Verified tokens in the cache.', () => cache().entries);
      gauge('gatehouse_token_cache_bytes', 'Estimated bytes held by the token cache.', () => cache().bytes);
      gauge('gatehouse_token_cache_hits', 'Token cache hits since start.', () => cache().hits);
      gauge('gatehouse_token_cache_misses', 'Token cache misses since start.', () => cache().misses);
    }
    if (audit) {
      gauge('gatehouse_audit_queue_length', 'Records waiting to be written to the store.', () => audit().queued);
      gauge('gatehouse_audit_dropped_records', 'Aggregated allow records dropped because the queue was full.', () => audit().dropped);
      gauge('gatehouse_audit_store_healthy', '1 when the last write to the store succeeded.', () => (audit().healthy ? 1 : 0), [], 'min');
      gauge('gatehouse_audit_write_failures', 'Failed store writes since start.', () => audit().failures ?? 0);
    }
    if (issuers) {
      gauge(
        'gatehouse_jwks_stale',
        '1 when an issuer is served from a stale (last good) key set.',
        function (this: Gauge<string>) {
          this.reset();
          for (const i of issuers()) this.set({ issuer: i.issuer }, i.stale ? 1 : 0);
        },
        ['issuer'],
        'max',
      );
      gauge(
        'gatehouse_jwks_ready',
        '1 when an issuer has a usable key set.',
        function (this: Gauge<string>) {
          this.reset();
          for (const i of issuers()) this.set({ issuer: i.issuer }, i.ready ? 1 : 0);
        },
        ['issuer'],
        'min',
      );
    }
    // Every worker holds the whole set.
    if (revoked) gauge('gatehouse_revoked_sessions', 'Revoked sessions known in memory.', revoked, [], 'max');
    if (websockets) gauge('gatehouse_websockets_open', 'Open WebSocket connections.', websockets);
  }

  /** The /metrics text: the whole deployment's under `workers: N`, this process's otherwise. */
  async text(): Promise<string> {
    const cluster = this.collectCluster ? await this.collectCluster() : null;
    return cluster ?? (await this.registry.metrics());
  }

  request(ctx: RequestContext, status: number, seconds: number): void {
    const app = ctx.app?.name ?? '';
    const decision = outcomeOf(ctx) ?? 'none';
    const key = `${app}\0${status}\0${decision}`;
    let child = this.children.get(key);
    if (!child) {
      child = { count: this.requests.labels(app, String(status), decision), latency: this.latency.labels(app) };
      if (this.children.size < 10_000) this.children.set(key, child);
    }
    child.count.inc();
    child.latency.observe(seconds);
  }

  upstreamError(app: string, kind: string): void {
    this.upstreamErrors.inc({ app, kind });
  }

  refresh(idp: string, outcome: string): void {
    this.refreshes.inc({ idp, outcome });
  }

  reload(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
  }
}

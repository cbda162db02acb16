// Prometheus metrics (prom-client), one registry per gateway. Per-request work is a Map lookup of
// a pre-labelled child plus two increments of plain numbers: prom-client's labelled inc() and
// observe() validate and hash their labels again on every call, so the request counter is handed to
// prom-client when it is read (its collect hook), and the latency histogram is counted here and
// exported in prom-client's own shape.
import { Counter, Gauge, Registry, collectDefaultMetrics, type Aggregator, type Metric } from 'prom-client';
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
  private readonly latency: LatencyHistogram;
  private readonly upstreamErrors: Counter<'app' | 'kind'>;
  private readonly reloads: Counter<'result'>;
  private readonly refreshes: Counter<'idp' | 'outcome'>;
  private readonly children = new Map<string, { count: Counter.Internal; pending: number; latency: LatencySeries }>();

  constructor(sources: GaugeSources = {}, defaults = true) {
    const registers = [this.registry];
    if (defaults) {
      // Node's process metrics as gatehouse_process_cpu_seconds_total, gatehouse_nodejs_heap_… .
      collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
      // Deprecated: the same under the old prefix (gatehouse_process_process_cpu_seconds_total, with
      // the word twice), kept for one release so existing dashboards keep working; removed in 0.3.
      collectDefaultMetrics({ register: this.registry, prefix: LEGACY_PROCESS_PREFIX });
    }
    const children = this.children;
    this.requests = new Counter({
      name: 'gatehouse_requests_total',
      help: 'Requests by app, status and decision.',
      labelNames: ['app', 'status', 'decision'],
      registers,
      // Called by prom-client before every read (/metrics, the workers' aggregation).
      collect() {
        for (const child of children.values()) {
          if (child.pending === 0) continue;
          child.count.inc(child.pending);
          child.pending = 0;
        }
      },
    });
    this.latency = new LatencyHistogram(
      'gatehouse_request_duration_seconds',
      'Time from request to response end, by app.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.registry.registerMetric(this.latency as unknown as Metric);
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
      const count = this.requests.labels(app, String(status), decision);
      const latency = this.latency.series(app);
      if (this.children.size >= 10_000) {
        count.inc();
        this.latency.observe(latency, seconds);
        return;
      }
      child = { count, pending: 0, latency };
      this.children.set(key, child);
    }
    child.pending++;
    this.latency.observe(child.latency, seconds);
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

interface LatencySeries {
  readonly app: string;
  /** Observations per bucket (not cumulative): counts[i] for value <= bounds[i] and > bounds[i - 1]. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram labelled by app, counted in plain arrays and exported exactly as prom-client's
 * Histogram exports itself (get() for the workers' aggregation, getForPromString() for the text), so
 * /metrics and `workers: N` see the same series, buckets and aggregation ('sum') as before.
 */
class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator: Aggregator = 'sum';
  private readonly bySeries = new Map<string, LatencySeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  series(app: string): LatencySeries {
    let s = this.bySeries.get(app);
    if (s === undefined) {
      s = { app, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.bySeries.set(app, s);
    }
    return s;
  }

  observe(s: LatencySeries, seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    if (i < bounds.length) s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += seconds;
    s.count++;
  }

  /** prom-client's Histogram#getForPromString shape: le per value, app as shared labels. */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: Aggregator; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.bySeries.values()) {
      const shared = { app: s.app };
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: this.bounds[i] as number }, sharedLabels: shared, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: shared, value: s.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: shared, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: shared, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client's Histogram#get shape: the shared labels folded into each value's labels. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: Aggregator; values: Array<Omit<ExportedValue, 'sharedLabels'>> }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })) };
  }

  /** Zeroes every series (the request path holds them). */
  reset(): void {
    for (const s of this.bySeries.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

// The batching writer that keeps the store off the request path. The pipeline calls session(),
// activity() and decision() per request: each is O(1), does no I/O and allocates little. Every
// ≤100 ms an unref'd timer writes everything pending in ONE store.writeBatch (one transaction).
// A backlog larger than maxBatchRecords (after an outage) is written in several transactions,
// one per timer turn, so that no single write blocks the event loop for long.
//
// When a write fails (disk full, read-only file, locked database, PostgreSQL down) the batch is put
// back in front of the queue, the writer reports unhealthy (for /readyz and /metrics) and retries
// with exponential backoff up to 5 s; the first successful write makes it healthy again.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import { PendingRecords, type DropCounters } from './writer-queue.js';
import type { DecisionRecord, SessionUpsert, Store } from '../store/types.js';

export interface RecordWriterOptions {
  /** How often pending records are written; at most (and by default) 100 ms. */
  flushIntervalMs?: number;
  /** Soft bound of pending records: beyond it allow records are dropped (store.queue_limit). */
  queueLimit: number;
  /** Sessions and kept decisions may exceed queueLimit up to queueLimit × this (default 10). */
  hardLimitFactor?: number;
  /** Longest wait between retries after failures (default 5000 ms). */
  maxBackoffMs?: number;
  /**
   * Most records written in one transaction (default 500, a few ms of SQLite work); the rest follow
   * on the next event-loop turn, so a flood of denials never holds the loop for tens of ms.
   */
  maxBatchRecords?: number;
  /**
   * 'aggregate': decision() ignores allowed/bypassed decisions itself. Default 'all': every decision
   * given is queued (the pipeline already applies audit.record_allowed from the request's config).
   */
  recordAllowed?: 'aggregate' | 'all';
  logger: Logger;
}

export interface WriterStats {
  /** Records waiting, including a batch being written. */
  queued: number;
  /** Allowed requests not recorded because the queue was full. */
  dropped: number;
  /** Sessions or denials lost beyond the hard bound (should stay 0). */
  droppedCritical: number;
  /** Records written since start. */
  written: number;
  /** Failed batch writes since start. */
  failures: number;
  lastError: string | null;
  healthy: boolean;
  /** Duration of the last successful batch write, ms. */
  lastFlushMs: number | null;
}

export interface RecordWriterEvents {
  'flush-error': [err: Error, stats: WriterStats];
  recovered: [stats: WriterStats];
}

/** How often a loss of critical records is logged (they are counted every time). */
const CRITICAL_LOG_INTERVAL_MS = 10_000;

export class RecordWriter extends EventEmitter<RecordWriterEvents> {
  /** Can change on config reload. */
  recordAllowed: 'aggregate' | 'all';
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly softLimit: number;
  private readonly hardLimit: number;
  private readonly maxBatch: number;
  private readonly logger: Logger;
  private readonly counters: DropCounters = { dropped: 0, droppedCritical: 0 };
  private pending: PendingRecords;
  private inflight = 0;
  private written = 0;
  private failures = 0;
  private consecutiveFailures = 0;
  private unhealthySince = 0;
  private lastError: string | null = null;
  private lastFlushMs: number | null = null;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private criticalLogged = 0;
  private criticalLoggedAt = 0;

  constructor(
    private readonly store: Store,
    opts: RecordWriterOptions,
  ) {
    super();
    this.intervalMs = Math.max(1, Math.min(100, opts.flushIntervalMs ?? 100));
    this.maxBackoffMs = Math.max(this.intervalMs, opts.maxBackoffMs ?? 5000);
    this.softLimit = Math.max(1, opts.queueLimit);
    this.hardLimit = this.softLimit * Math.max(1, opts.hardLimitFactor ?? 10);
    this.maxBatch = Math.max(1, opts.maxBatchRecords ?? 500);
    this.recordAllowed = opts.recordAllowed ?? 'all';
    this.logger = opts.logger;
    this.pending = this.emptyQueue();
    this.schedule(this.intervalMs);
  }

  private emptyQueue(): PendingRecords {
    return new PendingRecords(this.softLimit, this.hardLimit, this.counters);
  }

  /** A session seen (at login, first sight or later): inserted whole if new, else last-seen touched. */
  session(upsert: SessionUpsert): void {
    if (this.closed) return;
    this.pending.addSession(upsert);
    this.checkCritical();
  }

  /** One allowed request of a session on an app, aggregated until the next flush. */
  activity(sessionId: string, app: string, path: string, time: number): void {
    if (this.closed) return;
    this.pending.addActivity(sessionId, app, path, time);
  }

  /**
   * Denials and unauthenticated requests are always kept (critical); allowed and bypassed ones are
   * queued as droppable allow records, unless recordAllowed is 'aggregate'.
   */
  decision(rec: DecisionRecord): void {
    if (this.closed) return;
    if (rec.outcome === 'allow' || rec.outcome === 'bypass') {
      if (this.recordAllowed === 'all') this.pending.addAllowed(rec);
      return;
    }
    this.pending.addKept(rec);
    this.checkCritical();
  }

  get healthy(): boolean {
    return this.consecutiveFailures === 0;
  }

  stats(): WriterStats {
    return {
      queued: this.pending.size + this.inflight,
      dropped: this.counters.dropped,
      droppedCritical: this.counters.droppedCritical,
      written: this.written,
      failures: this.failures,
      lastError: this.lastError,
      healthy: this.healthy,
      lastFlushMs: this.lastFlushMs,
    };
  }

  /** Writes everything pending now (after any write in progress). Rejects if a write fails. */
  flush(): Promise<void> {
    return this.enqueue(async () => {
      const rounds = Math.ceil(this.pending.size / this.maxBatch);
      for (let i = 0; i < rounds; i++) {
        if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        await this.writeOnce();
      }
    });
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.catch(() => undefined).then(fn);
    this.chain = run;
    return run;
  }

  /**
   * Stops the timer and writes what is pending. A failed write is retried (with the usual backoff)
   * for up to `retryForMs` (default 0: one try), so a shutdown waits out a short store outage.
   * Never rejects (callers may not await it during shutdown): records that cannot be written by then
   * are logged as lost and their count returned.
   */
  async close(opts: { retryForMs?: number } = {}): Promise<{ lost: number }> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const giveUpAt = Date.now() + (opts.retryForMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.flush();
        return { lost: 0 };
      } catch (err) {
        const wait = Math.min(this.maxBackoffMs, this.intervalMs * 2 ** attempt, giveUpAt - Date.now());
        if (wait > 0) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        const lost = this.pending.size;
        this.logger.error({ err: err instanceof Error ? err.message : String(err), lost }, 'audit records could not be written before shutdown');
        return { lost };
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    // One transaction per turn; a backlog continues on the next turn instead of after the interval.
    this.enqueue(() => this.writeOnce()).then(
      () => this.schedule(this.pending.size >= this.maxBatch ? 0 : this.intervalMs),
      () => this.schedule(Math.min(this.maxBackoffMs, this.intervalMs * 2 ** this.consecutiveFailures)),
    );
  }

  private async writeOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    let taken = this.pending;
    if (taken.size > this.maxBatch) taken = this.pending.take(this.maxBatch);
    else this.pending = this.emptyQueue();
    const batch = taken.toBatch();
    const count = batch.sessions.length + batch.activity.length + batch.decisions.length;
    this.inflight = count;
    const started = performance.now();
    try {
      await this.store.writeBatch(batch);
    } catch (err) {
      this.inflight = 0;
      this.pending = PendingRecords.merge(taken, this.pending);
      this.onFailure(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    this.inflight = 0;
    this.lastFlushMs = performance.now() - started;
    this.written += count;
    if (this.consecutiveFailures > 0) {
      const downMs = Date.now() - this.unhealthySince;
      this.consecutiveFailures = 0;
      this.logger.info({ downMs, written: count, store: this.store.kind }, 'audit store writable again');
      this.emit('recovered', this.stats());
    }
  }

  private onFailure(err: Error): void {
    this.failures++;
    if (this.consecutiveFailures++ === 0) this.unhealthySince = Date.now();
    this.lastError = err.message;
    const stats = this.stats();
    this.logger.warn(
      { err: err.message, code: (err as { code?: unknown }).code, queued: stats.queued, attempt: this.consecutiveFailures },
      'audit store write failed; records kept, retrying',
    );
    this.checkCritical();
    this.emit('flush-error', err, stats);
  }

  /** Loud, but rate-limited: losing sessions or denials means the audit has a gap. */
  private checkCritical(): void {
    const lost = this.counters.droppedCritical;
    if (lost === this.criticalLogged) return;
    const now = Date.now();
    if (now - this.criticalLoggedAt < CRITICAL_LOG_INTERVAL_MS) return;
    this.logger.error(
      { lost: lost - this.criticalLogged, totalLost: lost, hardLimit: this.hardLimit, lastError: this.lastError },
      'audit queue past its hard bound: oldest sessions/denials dropped',
    );
    this.criticalLogged = lost;
    this.criticalLoggedAt = now;
  }
}

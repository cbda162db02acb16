// How eagerly V8 collects garbage in a gateway process, while the verified-token cache churns.
//
// V8 sizes its heap for the machine and lets the old generation grow to up to 4× what survived the
// last full collection before the next one. When more distinct tokens arrive than the cache holds
// (a flood of new tokens), entries live long enough to be promoted and are then evicted, and that
// garbage kept the process at several times its cache bound (measured: 536 MiB RSS with the default
// 64 MiB bound). A lower growing factor makes V8 collect it sooner, without a hard limit: unlike
// --max-old-space-size, a burst of live data (the audit queue during a store outage, say) can still
// grow the heap instead of crashing the process.
//
// But a low factor all the time costs streaming dearly (1 GiB through the gateway: about half the
// throughput, twice the CPU — V8 then also collects for every few MiB of socket buffers). So the
// factor is lowered only while the cache churns — it evicts, or fills with over a thousand new
// tokens a second (a flood's first seconds, before the cache is full) — and V8's own heuristics come
// back after five quiet seconds (a flood is continuous). V8 reads --heap-growing-percent each time
// it recomputes its heap limits, so setting it at run time works (0 means "V8 decides"). An
// operator's own heap flags win.
import v8 from 'node:v8';

/** Old-generation growth between full collections while the cache churns: 1 + this / 100. */
export const CHURN_HEAP_GROWING_PERCENT = 50;
/** How often the cache's eviction count is looked at. */
export const HEAP_CHECK_INTERVAL_MS = 1000;
/** Checks without churn before V8's own growth comes back. */
export const QUIET_CHECKS_TO_RELAX = 5;
/** Cache misses (new tokens verified, or refused) within one check that count as churn. */
export const MISS_BURST = 1000;

/** The token cache's cumulative counters the governor watches. */
export interface CacheChurn {
  evictions: number;
  misses: number;
}

const OPERATOR_HEAP_FLAG = /(?:^|\s)--(?:max[-_](?:old[-_]space|heap)[-_]size|heap[-_]growing[-_]percent)(?:[=\s]|$)/;

/** Whether the operator gave heap flags of their own (node's flags or NODE_OPTIONS); then we leave V8 alone. */
export function operatorHeapFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return execArgv.some((a) => OPERATOR_HEAP_FLAG.test(a)) || OPERATOR_HEAP_FLAG.test(nodeOptions);
}

/**
 * Lowers V8's heap growth while the token cache churns (see above), restores it after
 * QUIET_CHECKS_TO_RELAX quiet checks. check() is called by the timer; tests call it directly.
 */
export class HeapGovernor {
  private last: CacheChurn;
  private quiet = 0;
  private timer: NodeJS.Timeout | null = null;
  tight = false;

  constructor(
    private readonly counters: () => CacheChurn,
    private readonly setFlag: (flag: string) => void = (f) => v8.setFlagsFromString(f),
  ) {
    this.last = { ...counters() };
  }

  start(): this {
    this.timer ??= setInterval(() => this.check(), HEAP_CHECK_INTERVAL_MS).unref();
    return this;
  }

  check(): void {
    const now = { ...this.counters() };
    // A reload may replace the cache (and its counters): only upward moves count.
    const churning = now.evictions > this.last.evictions || now.misses - this.last.misses >= MISS_BURST;
    this.last = now;
    if (churning) {
      this.quiet = 0;
      if (!this.tight) {
        this.tight = true;
        this.setFlag(`--heap-growing-percent=${CHURN_HEAP_GROWING_PERCENT}`);
      }
    } else if (this.tight && ++this.quiet >= QUIET_CHECKS_TO_RELAX) {
      this.tight = false;
      this.setFlag('--heap-growing-percent=0');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.tight) this.setFlag('--heap-growing-percent=0');
    this.tight = false;
  }
}

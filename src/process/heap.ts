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
import { PerformanceObserver } from 'node:perf_hooks';

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

/** The young generation's size (both semi-spaces) a serving process stops growing at, in MiB. */
export const YOUNG_GENERATION_CAP_MIB = 16;
const MIB = 1024 * 1024;
const OPERATOR_YOUNG_FLAG = /(?:^|\s)--(?:max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)(?:[=\s]|$)/;

/** Whether the operator sized the young generation themselves; then it is left alone. */
export function operatorYoungFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return execArgv.some((a) => OPERATOR_YOUNG_FLAG.test(a)) || OPERATOR_YOUNG_FLAG.test(nodeOptions);
}

function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Holds V8's young generation at YOUNG_GENERATION_CAP_MIB instead of the 32 MiB V8 grows it to
 * under load (issue 18: RSS after a sustained load). --max-semi-space-size is read only when the
 * heap is set up, but --semi-space-growth-factor each time the space would grow: the start path
 * freezes growth before the gateway's modules load (start-up garbage would otherwise grow it to
 * 32 MiB at once); serving, the factor is V8's own (2) while the space is below the cap and 1 at
 * the cap, checked after each collection. Checked every time, not once: V8 shrinks the space again
 * when allocation slows (idle), and a factor left at 1 would then keep it small for good (measured:
 * streaming at half its throughput).
 */
export class YoungGenerationCap {
  private observer: PerformanceObserver | null = null;
  private factor = 0;

  constructor(
    private readonly capBytes = YOUNG_GENERATION_CAP_MIB * MIB,
    private readonly setFlag: (flag: string) => void = (f) => v8.setFlagsFromString(f),
    private readonly size: () => number = youngGenerationBytes,
  ) {}

  /** Before the gateway loads: no growth during start-up. */
  freeze(): this {
    this.use(1);
    return this;
  }

  /** Serving: grow (V8's factor 2) up to the cap, never past it. */
  start(): this {
    this.check();
    this.observer ??= new PerformanceObserver(() => this.check());
    this.observer.observe({ entryTypes: ['gc'] });
    return this;
  }

  /** Sets the factor for the space's current size; true when it is at the cap. */
  check(): boolean {
    const atCap = this.size() >= this.capBytes;
    this.use(atCap ? 1 : 2);
    return atCap;
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = null;
  }

  private use(factor: number): void {
    if (factor === this.factor) return;
    this.factor = factor;
    this.setFlag(`--semi-space-growth-factor=${factor}`);
  }
}

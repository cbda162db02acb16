// What keeps slow or greedy clients from holding every upstream connection (issue 17): a minimum
// transfer rate for request bodies and response reads, and caps on requests in flight per client
// address and per app. One timer serves every watched transfer, and only transfers that can be slow
// are watched (bodies; responses once the client pushes back), so a fast request pays nothing.

/** The rate is averaged over this window, like nginx's client_body_timeout is measured per read. */
export const SLOW_WINDOW_MS = 10_000;
const TICK_MS = 1_000;
/**
 * A sliding window, sampled every tick: a burst when the transfer starts (kernel buffers filling
 * before a non-reading client stalls, say) counts only for the window it falls in.
 */
const WINDOW_TICKS = SLOW_WINDOW_MS / TICK_MS;

export type SlowReason = 'too_slow' | 'deadline';

export interface Watched {
  readonly bytes: () => number;
  /** Bytes that must move per window (0: no minimum). */
  readonly minBytes: number;
  /** performance.now() time by which the transfer must be done (Infinity: none). */
  readonly deadline: number;
  readonly onSlow: (why: SlowReason) => void;
  /** bytes() at each of the last WINDOW_TICKS ticks, oldest first. */
  readonly samples: number[];
}

export class ProgressWatch {
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | null = null;

  /**
   * Calls onSlow once when fewer than minRate bytes per second moved over a window, or at the
   * deadline. null when there is nothing to watch for.
   */
  watch(bytes: () => number, minRate: number, deadline: number, onSlow: (why: SlowReason) => void): Watched | null {
    if (minRate <= 0 && deadline === Infinity) return null;
    const w: Watched = { bytes, minBytes: (minRate * SLOW_WINDOW_MS) / 1000, deadline, onSlow, samples: [bytes()] };
    this.watched.add(w);
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
    return w;
  }

  unwatch(w: Watched | null): void {
    if (w === null || !this.watched.delete(w) || this.watched.size > 0 || this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  get size(): number {
    return this.watched.size;
  }

  private tick(): void {
    const now = performance.now();
    for (const w of this.watched) {
      let why: SlowReason | null = null;
      if (now >= w.deadline) why = 'deadline';
      else if (w.minBytes > 0) {
        const moved = w.bytes();
        if (w.samples.length >= WINDOW_TICKS && moved - (w.samples.shift() as number) < w.minBytes) why = 'too_slow';
        w.samples.push(moved);
      }
      if (why !== null) {
        this.unwatch(w);
        w.onSlow(why);
      }
    }
  }
}

/** Requests in flight per key (a client address, an app), each key capped. */
export class InFlight {
  private readonly counts = new Map<string, number>();

  /** false (and nothing counted) when the key already has `max` in flight. */
  enter(key: string, max: number): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  leave(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }
}

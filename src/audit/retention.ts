// Background purge of the audit: decisions older than audit.retention and sessions that expired
// longer ago than that. Runs shortly after start and then hourly; the timers never keep the
// process alive, and a run never overlaps the previous one.
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';

export interface RetentionOptions {
  /** Default one hour. */
  intervalMs?: number;
  /** Delay of the first run after start (default 10 s, out of the way of startup). */
  initialDelayMs?: number;
  now?: () => number;
}

export interface RetentionHandle {
  /** Runs one purge now (or waits for the one in progress). */
  runOnce(): Promise<{ decisions: number; sessions: number } | null>;
  stop(): void;
}

/** `retentionMs` may be a getter so a config reload changes it without a restart. */
export function startRetention(
  store: Store,
  retentionMs: number | (() => number),
  logger: Logger,
  opts: RetentionOptions = {},
): RetentionHandle {
  const now = opts.now ?? Date.now;
  const retention = typeof retentionMs === 'function' ? retentionMs : () => retentionMs;
  let running: Promise<{ decisions: number; sessions: number } | null> | null = null;
  let stopped = false;

  const purgeOnce = async () => {
    const before = now() - retention();
    const started = Date.now();
    try {
      const result = await store.purge(before);
      if (result.decisions > 0 || result.sessions > 0) {
        logger.info({ ...result, before: new Date(before).toISOString(), ms: Date.now() - started }, 'audit retention purge');
      }
      return result;
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit retention purge failed; retrying later');
      return null;
    }
  };
  const runOnce = () => {
    if (running) return running;
    const run = purgeOnce().finally(() => {
      if (running === run) running = null;
    });
    running = run;
    return run;
  };

  const first = setTimeout(() => void runOnce(), opts.initialDelayMs ?? 10_000);
  first.unref();
  const every = setInterval(() => void runOnce(), opts.intervalMs ?? 3_600_000);
  every.unref();

  return {
    runOnce: () => (stopped ? Promise.resolve(null) : runOnce()),
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
    },
  };
}

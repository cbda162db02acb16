// The delays code under test asks setTimeout for, recorded instead of measured: a test can say
// "it retried after 20, 40, 80 ms" or "the backlog went on at once" without asserting on a clock,
// so it holds on a busy machine. The real setTimeout still runs; the original is restored at teardown.
import type { Test } from 'tap';

export function recordTimers(t: Test, ignore: (ms: number) => boolean = () => false): number[] {
  const delays: number[] = [];
  const original = globalThis.setTimeout;
  const recording = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (!ignore(ms ?? 0)) delays.push(ms ?? 0);
    return original(fn, ms, ...args);
  }) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(recording, original);
  t.teardown(() => {
    globalThis.setTimeout = original;
  });
  return delays;
}

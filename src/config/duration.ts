// Durations as written in the config files: a whole number and a unit, e.g. "250ms", "30s", "5m", "8h", "7d".

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([0-9]+)(ms|s|m|h|d)$/;

/** True when `s` is a duration string this module understands. */
export function isDuration(s: string): boolean {
  return DURATION.test(s);
}

/** "30s" → 30000. Throws a RangeError for anything that is not `<digits><ms|s|m|h|d>`. */
export function parseDuration(s: string): number {
  const m = DURATION.exec(s);
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(s)} (expected e.g. 30s, 5m, 8h)`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms)) throw new RangeError(`duration too large: ${s}`);
  return ms;
}

/** 30000 → "30s": the largest unit that divides evenly (for messages). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

// Version comparison for posture rules: numeric per dot-separated part, so 14.10 > 14.9 and
// 14.2.1 ≥ 14.2 (a missing part counts as 0). Pure; used by selectors and by posture ingest.

/** `14.2.1` → [14, 2, 1]; null when it is not dot-separated digits (an optional leading v). */
export function parseVersion(v: string): number[] | null {
  const m = /^v?(\d+(?:\.\d+)*)$/.exec(v.trim());
  if (!m) return null;
  const parts = (m[1] as string).split('.').map(Number);
  return parts.every(Number.isSafeInteger) ? parts : null;
}

/** Negative, 0 or positive like a sort comparator. Both must parse (parseVersion). */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

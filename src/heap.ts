// How eagerly V8 collects garbage in a gateway process. V8 sizes its heap for the machine and lets
// the old generation grow to up to 4× what survived the last full collection before the next one.
// A gateway whose verified-token cache churns (a flood of distinct tokens: entries live long enough
// to be promoted, then are evicted) would then sit at several times its cache bound (measured: 536
// MiB RSS with the default 64 MiB bound). A lower growing factor makes V8 collect that garbage
// sooner, with no hard limit: unlike --max-old-space-size, a burst of live data (the audit queue
// during a store outage, say) can still grow the heap instead of crashing the process.
//
// V8 reads this flag each time it recomputes the heap's limits, so setting it at start works; heap
// size limits, by contrast, are fixed when the process starts. An operator's own heap flags win.
import v8 from 'node:v8';

/** Old-generation growth between full collections: 1 + this / 100 (V8's own factor goes up to 4). */
export const HEAP_GROWING_PERCENT = 50;

const OPERATOR_HEAP_FLAG = /(?:^|\s)--(?:max[-_](?:old[-_]space|heap)[-_]size|heap[-_]growing[-_]percent)(?:[=\s]|$)/;

/** The V8 flag to set, or null when the operator gave heap flags of their own (node's flags or NODE_OPTIONS). */
export function heapGrowthFlag(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string | null {
  if (execArgv.some((a) => OPERATOR_HEAP_FLAG.test(a)) || OPERATOR_HEAP_FLAG.test(nodeOptions)) return null;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Applies heapGrowthFlag() to this process; returns the flag set, or null. */
export function tuneHeap(): string | null {
  const flag = heapGrowthFlag();
  if (flag) v8.setFlagsFromString(flag);
  return flag;
}

// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, heaviest first, with the
// file:line it lives in (paths shortened to the repo, node_modules or node: internals).
import { readFileSync } from 'node:fs';

export function summarizeProfile(file, top = 25, repoDir = process.cwd(), inclusivePrefix = 'dist/') {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map();
  const deltas = prof.timeDeltas ?? [];
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + Math.max(0, dt));
  }
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const agg = new Map();
  for (const [id, us] of selfMicros) {
    const cf = byId.get(id).callFrame;
    let url = cf.url || '';
    url = url.replace(/^file:\/\//, '').replace(repoDir + '/', '');
    url = url.replace(/^.*node_modules\//, 'node_modules/');
    const key = `${cf.functionName || '(anonymous)'}\t${url ? `${url}:${cf.lineNumber + 1}` : ''}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
  }
  const rows = [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  // Self time grouped by where the code lives (gateway dist/, each package, node internals, GC…).
  const groups = new Map();
  for (const [key, us] of agg) {
    const loc = key.split('\t')[1];
    let g = '(native / V8: GC, idle, program)';
    if (loc.startsWith('dist/')) g = loc.split(':')[0];
    else if (loc.startsWith('node_modules/')) g = 'node_modules/' + loc.split('/')[1];
    else if (loc.startsWith('node:')) g = 'node: internals';
    else if (loc) g = loc.split(':')[0];
    groups.set(g, (groups.get(g) ?? 0) + us);
  }
  // Inclusive ("total") time of the gateway's own functions (dist/…): every sample counts once for
  // each distinct function on its stack.
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map();
  for (const n of prof.nodes) {
    const cf = n.callFrame;
    const url = (cf.url || '').replace(/^file:\/\//, '').replace(repoDir + '/', '');
    keyOf.set(n.id, url.startsWith(inclusivePrefix) ? `${cf.functionName || '(anonymous)'} ${url}:${cf.lineNumber + 1}` : null);
  }
  const incl = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    const seen = new Set();
    for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      const k = keyOf.get(id);
      if (k && !seen.has(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + dt);
      }
    }
  }
  return {
    totalMs: total / 1000,
    inclusive: [...incl.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, us]) => ({ fn, ms: us / 1000, pct: (100 * us) / total })),
    top: rows.map(([fn, us]) => ({ fn: fn.replace('\t', ' ').trim(), ms: us / 1000, pct: (100 * us) / total })),
    byLocation: [...groups.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([where, us]) => ({ where, ms: us / 1000, pct: (100 * us) / total })),
  };
}

/** Summarises a V8 .heapprofile (node --heap-prof): sampled allocation bytes by function. */
export function summarizeHeapProfile(file, top = 25, repoDir = process.cwd()) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const agg = new Map();
  let total = 0;
  const walk = (n) => {
    const cf = n.callFrame;
    let url = (cf.url || '').replace(/^file:\/\//, '').replace(repoDir + '/', '').replace(/^.*node_modules\//, 'node_modules/');
    const key = `${cf.functionName || '(anonymous)'} ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
    agg.set(key, (agg.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children ?? []) walk(c);
  };
  walk(prof.head);
  return {
    totalMiB: total / 2 ** 20,
    top: [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, bytes]) => ({ fn, mib: bytes / 2 ** 20, pct: (100 * bytes) / total })),
  };
}

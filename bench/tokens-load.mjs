// A small keep-alive load generator that sends a DIFFERENT token on every request, so every request
// is a verified-token cache miss at the gateway (wrk and autocannon repeat the same headers).
// Run as its own process:
//   node bench/tokens-load.mjs --url http://127.0.0.1:PORT/ --host allow.bench.test \
//        (--tokens FILE [--offset N] [--count M] | --hs256 '{"secret":…,"iss":…,"aud":…}' [--count M]) \
//        [--warmup W] [--concurrency 50] [--duration 5] [--cpu-pid PID] [--rss-pid PID] [--progress 10]
// Tokens are used in order, each once; the first W are a warm-up that is not measured. The run ends
// at --duration seconds or when the tokens run out, whichever comes first. Prints one line
// `TLJSON {...}`: requests, seconds, req/s, p50/p99 ms, status counts, and — with --cpu-pid — the
// CPU seconds the process (and its children) used during the measured phase, per request.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { cpuSeconds, memory, percentile } from './lib/proc.mjs';
import { hs256Minter } from './lib/mint.mjs';
import { performance } from 'node:perf_hooks';

const { values: a } = parseArgs({
  options: {
    url: { type: 'string' },
    host: { type: 'string' },
    tokens: { type: 'string' },
    hs256: { type: 'string' },
    offset: { type: 'string', default: '0' },
    count: { type: 'string' },
    warmup: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '50' },
    duration: { type: 'string', default: '5' },
    'cpu-pid': { type: 'string' },
    'rss-pid': { type: 'string' },
    cookie: { type: 'string' },
    progress: { type: 'string', default: '0' },
  },
});
if (!a.url || (!a.tokens && !a.hs256)) {
  console.error('usage: tokens-load.mjs --url URL (--tokens FILE | --hs256 JSON) [options]');
  process.exit(2);
}

const url = new URL(a.url);
const path = url.pathname + url.search;
let tokenAt;
let total;
if (a.tokens) {
  const all = readFileSync(a.tokens, 'utf8').split('\n').filter(Boolean);
  const offset = Number(a.offset);
  total = Math.min(Number(a.count ?? all.length - offset), all.length - offset);
  tokenAt = (i) => all[offset + i];
} else {
  const spec = JSON.parse(a.hs256);
  tokenAt = hs256Minter(spec.secret, spec, spec.tag);
  total = Number(a.count ?? 1_000_000);
}
const warmup = Math.min(Number(a.warmup), total);
const concurrency = Number(a.concurrency);
const durationMs = Number(a.duration) * 1000;
const cpuPid = a['cpu-pid'] ? Number(a['cpu-pid']) : null;
const rssPid = a['rss-pid'] ? Number(a['rss-pid']) : null;
const progressMs = Number(a.progress) * 1000;

const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
const headersFor = a.cookie
  ? (tok) => ({ host: a.host ?? url.host, cookie: `${a.cookie}=${tok}` })
  : (tok) => ({ host: a.host ?? url.host, authorization: `Bearer ${tok}` });

async function phase(from, to, deadline, measure) {
  let next = from;
  const statuses = {};
  let errors = 0;
  let done = 0;
  const lat = measure ? new Float64Array(Math.max(1, to - from)) : null;
  let peakRssKiB = 0;
  let progressTimer = null;
  let rssTimer = null;
  if (measure && rssPid) {
    rssTimer = setInterval(() => {
      try {
        peakRssKiB = Math.max(peakRssKiB, memory(rssPid).rssKiB);
      } catch {
        /* gone */
      }
    }, 100);
  }
  const t0 = performance.now();
  if (measure && progressMs) {
    progressTimer = setInterval(() => {
      const s = (performance.now() - t0) / 1000;
      let rss = '';
      if (rssPid) {
        try {
          rss = ` gateway RSS ${(memory(rssPid).rssKiB / 1024).toFixed(0)} MiB (peak ${(peakRssKiB / 1024).toFixed(0)})`;
        } catch {
          /* gone */
        }
      }
      process.stderr.write(`  … ${done.toLocaleString()} requests in ${s.toFixed(0)} s (${Math.round(done / s).toLocaleString()}/s)${rss}\n`);
    }, progressMs);
  }
  const loop = async () => {
    for (;;) {
      const i = next++;
      if (i >= to || performance.now() > deadline) return;
      const start = performance.now();
      try {
        const { statusCode, body } = await pool.request({ path, method: 'GET', headers: headersFor(tokenAt(i)) });
        await body.dump();
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      } catch {
        errors++;
      }
      if (lat) lat[done] = performance.now() - start;
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - t0) / 1000;
  if (progressTimer) clearInterval(progressTimer);
  if (rssTimer) clearInterval(rssTimer);
  return { done, seconds, statuses, errors, lat: lat ? lat.subarray(0, done) : null, peakRssKiB };
}

if (warmup > 0) await phase(0, warmup, performance.now() + 30_000, false);
const cpu0 = cpuPid ? cpuSeconds(cpuPid, true) : null;
const m = await phase(warmup, total, performance.now() + durationMs, true);
const cpu1 = cpuPid ? cpuSeconds(cpuPid, true) : null;
await pool.close();

const sorted = Float64Array.from(m.lat).sort();
const ok = m.statuses[200] ?? 0;
const result = {
  requests: m.done,
  seconds: m.seconds,
  rps: m.done / m.seconds,
  p50Ms: percentile(sorted, 50),
  p99Ms: percentile(sorted, 99),
  statuses: m.statuses,
  non200: m.done - ok - m.errors,
  errors: m.errors,
  exhausted: warmup + m.done >= total,
  ...(cpuPid ? { cpuSeconds: cpu1 - cpu0, cpuUsPerRequest: ((cpu1 - cpu0) * 1e6) / Math.max(1, m.done) } : {}),
  ...(rssPid ? { peakRssMiB: m.peakRssKiB / 1024 } : {}),
};
process.stdout.write(`TLJSON ${JSON.stringify(result)}\n`);

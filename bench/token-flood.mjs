// A flood of distinct valid tokens: every request carries a token the gateway has never seen, so
// every request is verified and cached. The verified-token cache is bounded (session.cache
// max_entries / max_bytes; the defaults unless --max-bytes is given), so the gateway's RSS must level
// off at the bound plus a fixed overhead. Targets: peak RSS < 350 MiB with the default bound (issue 6)
// and at least 100,000 identities held in it at the end (issue 18).
//
// Tokens: HS256 from an external issuer with a 48-byte secret, minted on the fly by the load
// generator (bench/tokens-load.mjs --hs256, ~5 µs each), so a million distinct tokens need no
// pre-minting. The run stops at --count requests or --budget seconds, whichever comes first; the
// count reached is reported.
//   node bench/token-flood.mjs [--count 1000000] [--concurrency 64] [--budget 240] [--max-bytes N]
//                              [--node-args '--max-old-space-size=192'] [--no-write]
import { benchArgs } from './lib/args.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { BENCH_DIR, fmt, httpGetText, machineNotes, memory, metricValue, runToEnd, sampleRss, sleep, startService } from './lib/proc.mjs';
import { AUDIENCE, HOSTS, HS_ISSUER, cleanup, importDist, prepareGateway, startGatehouse } from './lib/gatehouse.mjs';

const { values: o } = benchArgs(import.meta.url, {
  count: { type: 'string', default: '1000000' },
  concurrency: { type: 'string', default: '64' },
  budget: { type: 'string', default: '240' },
  'max-bytes': { type: 'string' },
  'node-args': { type: 'string', default: '' },
  'log-level': { type: 'string', default: 'warn' },
  'no-write': { type: 'boolean', default: false },
});
const RSS_TARGET_MIB = 350;
/** Issue 18: the default bound must hold at least this many active identities. */
const IDENTITIES_TARGET = 100_000;
const started = new Date();
const log = (...a) => process.stderr.write(`[flood] ${a.join(' ')}\n`);
const services = [];
let gwDir = null;

try {
  let defaults = null;
  try {
    defaults = (await importDist('config/resolve-gateway.js')).DEFAULTS?.cache ?? null;
  } catch {
    /* reported as unknown */
  }
  const up = startService('upstream', process.execPath, [join(BENCH_DIR, 'upstream.mjs')], { readyLine: (j) => j.msg === 'listening' && j });
  services.push(up);
  const { port: upPort } = await up.ready;
  const secret = randomBytes(48).toString('base64url');
  const gw = await prepareGateway({
    upstream: `http://127.0.0.1:${upPort}`,
    logLevel: o['log-level'],
    hsSecret: secret,
    ...(o['max-bytes'] ? { gateway: { session: { cookie: 'gh_bench', keys: './keys/session.jwks.json', secure_cookie: false, cache: { max_bytes: Number(o['max-bytes']) } } } } : {}),
  });
  gwDir = gw.dir;
  // e.g. --node-args=--max-old-space-size=192 to see how much of the peak is V8 heap headroom.
  const gh = await startGatehouse(gw, { nodeArgs: o['node-args'] ? o['node-args'].split(' ').filter(Boolean) : [] });
  services.push(gh);
  const bound = o['max-bytes'] ? { maxBytes: Number(o['max-bytes']), maxEntries: defaults?.maxEntries } : defaults;
  const idleMiB = memory(gh.pid).rssKiB / 1024;

  const hs = (tag) => JSON.stringify({ secret, iss: HS_ISSUER, aud: AUDIENCE, tag });
  const load = (args) => runToEnd(process.execPath, [join(BENCH_DIR, 'tokens-load.mjs'), '--url', `http://127.0.0.1:${gw.dataPort}/`, '--host', HOSTS.allow, ...args], { onStderr: (s) => process.stderr.write(s) });
  const parse = (r) => {
    const line = r.stdout.split('\n').find((l) => l.startsWith('TLJSON '));
    if (!line) throw new Error(`tokens-load failed: ${r.stderr}`);
    return JSON.parse(line.slice(7));
  };

  // Fixed overhead: the gateway after a small warm-up (JIT, pools, store) with a nearly empty cache.
  const warm = parse(await load(['--hs256', hs('warm'), '--count', '5000', '--concurrency', o.concurrency, '--duration', '30']));
  if ((warm.statuses['200'] ?? 0) !== warm.requests) throw new Error(`warm-up: expected only 200s, got ${JSON.stringify(warm.statuses)}`);
  await sleep(500);
  const baseMiB = memory(gh.pid).rssKiB / 1024;
  log(`gatehouse pid ${gh.pid}: idle RSS ${idleMiB.toFixed(0)} MiB, after 5,000-token warm-up ${baseMiB.toFixed(0)} MiB; cache bound ${bound ? `${fmt.n(bound.maxEntries)} entries / ${fmt.n(bound.maxBytes / 2 ** 20)} MiB` : 'unknown'}`);
  log(`flooding with up to ${fmt.n(Number(o.count))} distinct HS256 tokens, ${o.concurrency} connections, budget ${o.budget} s …`);

  // Scrape the gateway's own view while the flood runs.
  const scrapes = [];
  let scraping = true;
  const scraper = (async () => {
    const t0 = Date.now();
    while (scraping) {
      const m = await httpGetText(`http://127.0.0.1:${gw.adminPort}/metrics`).catch(() => null);
      if (m && m.status === 200) {
        let rss = null;
        try {
          rss = memory(gh.pid).rssKiB / 1024;
        } catch {
          /* gone */
        }
        scrapes.push({
          s: (Date.now() - t0) / 1000,
          rssMiB: rss,
          cacheEntries: metricValue(m.text, 'gatehouse_token_cache_entries'),
          cacheBytes: metricValue(m.text, 'gatehouse_token_cache_bytes'),
          auditQueue: metricValue(m.text, 'gatehouse_audit_queue_length'),
          heapUsedMiB: (metricValue(m.text, 'gatehouse_nodejs_heap_size_used_bytes') ?? NaN) / 2 ** 20,
        });
      }
      await sleep(2000);
    }
  })();
  const rss = sampleRss(gh.pid, 100);
  const flood = parse(
    await load(['--hs256', hs('flood'), '--count', o.count, '--concurrency', o.concurrency, '--duration', o.budget, '--cpu-pid', String(gh.pid), '--progress', '15']),
  );
  const mem = rss.stop();
  scraping = false;
  await scraper;
  await sleep(1500); // let the audit writer flush
  const after = await httpGetText(`http://127.0.0.1:${gw.adminPort}/metrics`).catch(() => null);
  const hwmMiB = memory(gh.pid).hwmKiB / 1024;
  let sessions = null;
  try {
    const db = new Database(gw.dbFile, { readonly: true, fileMustExist: true });
    sessions = db.prepare('SELECT count(*) AS n FROM sessions').get().n;
    db.close();
  } catch (err) {
    sessions = `unavailable: ${err.message}`;
  }

  const peak = Math.max(mem.peakRssMiB, hwmMiB);
  const maxCacheBytes = Math.max(0, ...scrapes.map((x) => x.cacheBytes ?? 0), metricValue(after?.text ?? '', 'gatehouse_token_cache_bytes') ?? 0);
  const maxQueue = Math.max(0, ...scrapes.map((x) => x.auditQueue ?? 0));
  const result = {
    started: started.toISOString(),
    machine: machineNotes(),
    settings: { nodeArgs: o['node-args'] || null, requested: Number(o.count), concurrency: Number(o.concurrency), budgetSec: Number(o.budget), tokens: 'HS256, external issuer, 48-byte secret, minted per request by tokens-load.mjs', gatehouseLogLevel: o['log-level'], cacheBound: bound },
    requests: flood.requests,
    seconds: flood.seconds,
    rps: flood.rps,
    p50Ms: flood.p50Ms,
    p99Ms: flood.p99Ms,
    statuses: flood.statuses,
    errors: flood.errors,
    cpuUsPerRequest: flood.cpuUsPerRequest,
    rss: { idleMiB, afterWarmupMiB: baseMiB, peakSampledMiB: mem.peakRssMiB, hwmMiB, peakMiB: peak, endMiB: memory(gh.pid).rssKiB / 1024 },
    cache: { maxBytesSeen: maxCacheBytes, endEntries: metricValue(after?.text ?? '', 'gatehouse_token_cache_entries'), endBytes: metricValue(after?.text ?? '', 'gatehouse_token_cache_bytes') },
    audit: { maxQueue, endQueue: metricValue(after?.text ?? '', 'gatehouse_audit_queue_length'), dropped: metricValue(after?.text ?? '', 'gatehouse_audit_dropped_records'), sessionsStored: sessions },
    target: { goal: `< ${RSS_TARGET_MIB} MiB`, met: peak < RSS_TARGET_MIB },
    identitiesTarget: { goal: `≥ ${IDENTITIES_TARGET} identities held at the end`, met: (metricValue(after?.text ?? '', 'gatehouse_token_cache_entries') ?? 0) >= IDENTITIES_TARGET },
    timeline: scrapes,
  };

  const L = [];
  L.push(`### Token flood — ${result.started}`);
  L.push('');
  L.push(`${result.machine.cpuModel}, ${result.machine.cores} cores, Node ${result.machine.node}${o['node-args'] ? ` (gateway started with ${o['node-args']})` : ''}. ${result.settings.tokens}; ${o.concurrency} keep-alive connections from a separate process.`);
  L.push('');
  L.push('| measure | value |');
  L.push('|---|---:|');
  L.push(`| distinct tokens sent (requested ${fmt.n(Number(o.count))}) | ${fmt.n(flood.requests)} in ${fmt.n(flood.seconds, 1)} s |`);
  L.push(`| req/s, p50 / p99 | ${fmt.n(flood.rps)}, ${fmt.ms(flood.p50Ms)} / ${fmt.ms(flood.p99Ms)} ms |`);
  L.push(`| statuses | ${Object.entries(flood.statuses).map(([k, v]) => `${k}: ${fmt.n(v)}`).join(', ')}${flood.errors ? `, errors: ${flood.errors}` : ''} |`);
  L.push(`| gateway CPU per request (HS256 verify + cache insert + session record) | ${fmt.n(flood.cpuUsPerRequest, 1)} µs |`);
  L.push(`| cache bound (session.cache) | ${bound ? `${fmt.n(bound.maxEntries)} entries / ${fmt.n(bound.maxBytes / 2 ** 20)} MiB` : 'unknown'} |`);
  L.push(`| cache at end: entries / estimated bytes | ${fmt.n(result.cache.endEntries)} / ${fmt.n((result.cache.endBytes ?? NaN) / 2 ** 20, 1)} MiB |`);
  L.push(`| RSS idle / after warm-up (fixed overhead) | ${fmt.n(idleMiB)} / ${fmt.n(baseMiB)} MiB |`);
  L.push(`| RSS peak (sampled every 100 ms; VmHWM) | ${fmt.n(mem.peakRssMiB)} MiB; ${fmt.n(hwmMiB)} MiB |`);
  L.push(`| peak − fixed overhead vs cache max_bytes | ${fmt.n(peak - baseMiB)} MiB vs ${bound ? fmt.n(bound.maxBytes / 2 ** 20) : '?'} MiB |`);
  L.push(`| audit queue max / at end; sessions stored | ${fmt.n(maxQueue)} / ${fmt.n(result.audit.endQueue)}; ${typeof sessions === 'number' ? fmt.n(sessions) : sessions} |`);
  L.push(`| **target: peak RSS < ${RSS_TARGET_MIB} MiB** | **${fmt.n(peak)} MiB — ${result.target.met ? 'met' : 'not met'}** |`);
  L.push(`| **target: ≥ ${fmt.n(IDENTITIES_TARGET)} identities held in the bound** | **${fmt.n(result.cache.endEntries)} (${fmt.n((result.cache.endBytes ?? NaN) / Math.max(1, result.cache.endEntries ?? 1), 0)} estimated bytes each) — ${result.identitiesTarget.met ? 'met' : 'not met'}** |`);
  L.push('');
  if (scrapes.length) {
    L.push('RSS over time (MiB): ' + scrapes.filter((_, i) => i % Math.max(1, Math.floor(scrapes.length / 12)) === 0).map((x) => `${x.s.toFixed(0)}s ${fmt.n(x.rssMiB)}`).join(' · '));
    L.push('');
  }
  const md = L.join('\n');
  if (!o['no-write']) {
    const dir = join(BENCH_DIR, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `token-flood-${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(dir, 'token-flood-latest.md'), md);
  }
  process.stdout.write(md);
} finally {
  for (const s of services.reverse()) await s.stop('SIGTERM', 15_000);
  if (gwDir) cleanup(gwDir);
}

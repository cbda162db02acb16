// `npm run bench`: the request-rate harness. Everything runs as separate processes on 127.0.0.1:
// a minimal upstream, the baselines (upstream direct, bare http-proxy-3 on its native and fetch
// paths, nginx when installed) and Gatehouse, each case loaded from its own load-generator process
// (wrk, else autocannon; the distinct-token cases use bench/tokens-load.mjs). Rounds interleave the
// cases (A B C … A B C …) and every ratio is taken against the bare proxy *of the same round*.
// Writes bench/results/<timestamp>.json and bench/results/latest.md and prints the Markdown.
//
//   node bench/run.js [--rounds 3] [--duration 5] [--warmup 1] [--connections 50]
//                     [--cold-duration 3] [--only case,case] [--skip case,case]
//                     [--tool wrk|autocannon] [--log-level warn|silent|info] [--no-write]
//                     [--fa-baseline <another build's dist/>]   (adds nginx-fa-base: A/B in the same run)
import { benchArgs } from './lib/args.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadTool, runLoad } from './lib/load.mjs';
import {
  BENCH_DIR,
  cpuSeconds,
  fmt,
  machineNotes,
  median,
  minMax,
  probe,
  processTree,
  runToEnd,
  sleep,
  startService,
  which,
  freePort,
  waitForPort,
} from './lib/proc.mjs';
import { AUDIENCE, COOKIE, HOSTS, HS_ISSUER, ISSUER, cleanup, distReady, issuerKeys, mintCookie, prepareGateway, startGatehouse } from './lib/gatehouse.mjs';
import { hs256Minter, mintTokens } from './lib/mint.mjs';

const { values: opt } = benchArgs(import.meta.url, {
  rounds: { type: 'string', default: '3' },
  duration: { type: 'string', default: '5' },
  warmup: { type: 'string', default: '1' },
  connections: { type: 'string', default: '50' },
  'cold-duration': { type: 'string', default: '3' },
  only: { type: 'string' },
  skip: { type: 'string' },
  tool: { type: 'string' },
  'log-level': { type: 'string', default: 'warn' },
  'no-write': { type: 'boolean', default: false },
  'fa-baseline': { type: 'string' },
});
const ROUNDS = Number(opt.rounds);
const DURATION = Number(opt.duration);
const WARMUP = Number(opt.warmup);
const CONNECTIONS = Number(opt.connections);
const COLD_DURATION = Number(opt['cold-duration']);
const LOG_LEVEL = opt['log-level'];
const ONLY = opt.only ? new Set(opt.only.split(',')) : null;
const SKIP = new Set(opt.skip ? opt.skip.split(',') : []);
const wanted = (id) => (!ONLY || ONLY.has(id) || id === 'bare') && !SKIP.has(id);
const COLD_ALGS = ['ES256', 'RS256', 'EdDSA'];
/** Cold cases, the HMAC one too (an external HS256 issuer: the token flood's tokens). */
const ALL_COLD = [...COLD_ALGS, 'HS256'];
/** Cold path target: cold CPU/req − bypass CPU/req ≤ this × the node:crypto verification floor. */
const FLOOR_FACTOR = 1.3;
/** Cold ES256 on an app with jwt_assertion: false: the cold path without the assertion's signature. */
const NOASSERT = 'cold-ES256-noassert';
/** nginx asks Gatehouse from this address (proxy_bind), the only trusted proxy: wrk's 127.0.0.1 stays untrusted. */
const FA_PEER = '127.0.0.2';

const t0 = Date.now();
const started = new Date();
const log = (...a) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${a.join(' ')}\n`);
const services = [];
const tempDirs = [];
const notes = [];

async function main() {
  if (!distReady()) {
    console.error('bench: dist/cli.js not found — build first (npm run build, or use `npm run bench`).');
    process.exit(1);
  }
  const tool = loadTool(opt.tool);
  const machine = { ...machineNotes(), loadTool: tool.name, loadToolVersion: tool.name === 'wrk' ? await wrkVersion() : 'autocannon 9 (child process)' };
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, load tool ${tool.name}`);
  if (tool.name !== 'wrk') {
    notes.push(
      `${which('wrk') ? 'autocannon chosen' : 'wrk not installed'}: autocannon (a Node process) generates the load and takes more CPU from the shared cores than wrk would.`,
    );
  }

  // ---------------------------------------------------------------- processes
  const upstream = await startNode('upstream', [join(BENCH_DIR, 'upstream.mjs')]);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const bare = await startNode('bare-proxy', [join(BENCH_DIR, 'bare-proxy.mjs'), '--target', upstreamUrl, '--mode', 'native']);
  const bareFetch = wanted('bare-fetch') ? await startNode('bare-proxy-fetch', [join(BENCH_DIR, 'bare-proxy.mjs'), '--target', upstreamUrl, '--mode', 'fetch']) : null;
  const keys = issuerKeys(COLD_ALGS);
  const forwardAuth = wanted('nginx-fa') || wanted('nginx-fa-floor');
  const hsSecret = randomBytes(48).toString('base64url');
  const gw1dir = await prepareGateway({ upstream: upstreamUrl, logLevel: LOG_LEVEL, issuerKeys: keys, hsSecret, ...(forwardAuth ? { forwardAuthPeer: FA_PEER } : {}) });
  tempDirs.push(gw1dir.dir);
  const gh = await startGatehouse(gw1dir, { name: 'gatehouse' });
  services.push(gh);
  log(`gatehouse (workers: 1) pid ${gh.pid} on ${gh.dataPort}, admin ${gh.adminPort}`);
  const cookie = await mintCookie(gw1dir.keysFile);
  // One nginx (one worker) for both nginx cases: proxy_pass alone, and auth_request to Gatehouse.
  const nginx = wanted('nginx') || forwardAuth ? await startNginx(upstream.port, forwardAuth ? gh.dataPort : null) : null;
  // The floor: the same recipe in a second nginx (one worker), asking a bare node:http server that
  // answers with Gatehouse's own 200 and identity headers for this cookie, and does nothing else.
  let floor = null;
  let nginxFloor = null;
  if (nginx?.faPort && wanted('nginx-fa-floor')) {
    const answer = await forwardAuthAnswer(gh.dataPort, `${COOKIE}=${cookie}`);
    const file = join(gw1dir.dir, 'fa-floor-headers.json');
    writeFileSync(file, JSON.stringify(answer));
    floor = await startNode('fa-floor', [join(BENCH_DIR, 'fa-floor.mjs'), '--headers', file]);
    nginxFloor = await startNginx(upstream.port, floor.port, 'nginx-floor');
  }
  // --fa-baseline: the same forward-auth case on another build (same keys, own store, own nginx).
  let ghBase = null;
  let nginxBase = null;
  if (nginx?.faPort && opt['fa-baseline']) {
    const dir = await prepareGateway({ upstream: upstreamUrl, logLevel: LOG_LEVEL, keysFrom: gw1dir.keysFile, forwardAuthPeer: FA_PEER });
    tempDirs.push(dir.dir);
    ghBase = await startGatehouse(dir, { name: 'gatehouse-base', dist: resolve(opt['fa-baseline']) });
    services.push(ghBase);
    nginxBase = await startNginx(upstream.port, ghBase.dataPort, 'nginx-base');
  }

  // workers: 2 — same keys (so the same cookie works), own store.
  let gh2 = null;
  const workers = { requested: 2, status: 'not run' };
  if (wanted('gh-allow-w2')) {
    const gw2dir = await prepareGateway({ upstream: upstreamUrl, logLevel: LOG_LEVEL, issuerKeys: keys, workers: 2, keysFrom: gw1dir.keysFile });
    tempDirs.push(gw2dir.dir);
    try {
      gh2 = await startGatehouse(gw2dir, { name: 'gatehouse-w2' });
      services.push(gh2);
      await sleep(1500); // let cluster workers come up
      const procs = processTree(gh2.pid);
      workers.processes = procs.length;
      if (procs.length < 3) {
        workers.status = `not implemented: workers: 2 was accepted but the gateway runs ${procs.length} process(es)`;
        notes.push(workers.status);
        await gh2.stop();
        gh2 = null;
      } else {
        workers.status = `running: primary + ${procs.length - 1} worker processes`;
        log(`gatehouse (workers: 2) pid ${gh2.pid}: ${procs.length} processes`);
      }
    } catch (err) {
      workers.status = `not implemented / refused: ${firstLine(err.output ?? err.message)}`;
      notes.push(`workers: 2 — ${workers.status}`);
      gh2 = null;
    }
  }

  // ---------------------------------------------------------------- probes
  const expect = async (label, port, req, status, check) => {
    const r = await probe(port, req);
    if (r.status !== status) throw new Error(`probe ${label}: expected ${status}, got ${r.status}: ${r.body.slice(0, 300)}`);
    if (check) check(r);
  };
  await expect('upstream', upstream.port, { path: '/' }, 200);
  await expect('bare proxy', bare.port, { path: '/' }, 200);
  if (bareFetch) await expect('bare proxy (fetch)', bareFetch.port, { path: '/' }, 200);
  await expect('gatehouse bypass', gh.dataPort, { path: '/', host: HOSTS.bypass }, 200);
  await expect('gatehouse allow', gh.dataPort, { path: '/echo', host: HOSTS.allow, headers: { cookie: `${COOKIE}=${cookie}` } }, 200, (r) => {
    const seen = JSON.parse(r.body).headers;
    if (seen['x-gatehouse-user-email'] !== 'bench@corp.example') throw new Error(`allow probe: upstream saw no identity headers: ${JSON.stringify(seen)}`);
  });
  await expect('gatehouse deny', gh.dataPort, { path: '/', host: HOSTS.deny, headers: { cookie: `${COOKIE}=${cookie}`, accept: 'application/json' } }, 403);
  await expect('gatehouse no credential', gh.dataPort, { path: '/', host: HOSTS.allow, headers: { accept: 'application/json' } }, 401);
  if (nginx) await expect('nginx', nginx.port, { path: '/' }, 200);
  if (nginx?.faPort) {
    await expect('nginx forward-auth allow', nginx.faPort, { path: '/echo', host: HOSTS.fa, headers: { cookie: `${COOKIE}=${cookie}` } }, 200, (r) => {
      const seen = JSON.parse(r.body).headers;
      if (seen['x-gatehouse-user-email'] !== 'bench@corp.example') throw new Error(`forward-auth probe: upstream saw no identity headers: ${JSON.stringify(seen)}`);
    });
    await expect('nginx forward-auth no credential', nginx.faPort, { path: '/', host: HOSTS.fa, headers: { accept: 'application/json' } }, 401);
  }
  if (nginxBase?.faPort) await expect('nginx forward-auth baseline', nginxBase.faPort, { path: '/', host: HOSTS.fa, headers: { cookie: `${COOKIE}=${cookie}` } }, 200);
  if (nginxFloor?.faPort) {
    await expect('nginx forward-auth floor', nginxFloor.faPort, { path: '/echo', host: HOSTS.fa, headers: { cookie: `${COOKIE}=${cookie}` } }, 200, (r) => {
      const seen = JSON.parse(r.body).headers;
      if (seen['x-gatehouse-user-email'] !== 'bench@corp.example') throw new Error(`forward-auth floor probe: upstream saw no identity headers: ${JSON.stringify(seen)}`);
    });
  }
  if (gh2) await expect('gatehouse w2 allow', gh2.dataPort, { path: '/', host: HOSTS.allow, headers: { cookie: `${COOKIE}=${cookie}` } }, 200);

  // ---------------------------------------------------------------- cold-path tokens
  const coldAlgs = ALL_COLD.filter((a) => wanted(`cold-${a}`));
  // Token sets by cold case: one per algorithm, plus ES256 for the app without the assertion.
  const coldSets = [...coldAlgs.map((alg) => ({ id: alg, alg, host: HOSTS.allow })), ...(wanted(NOASSERT) ? [{ id: 'ES256-noassert', alg: 'ES256', host: HOSTS.plain }] : [])];
  const tokenFiles = {};
  const perRound = {};
  if (coldSets.length) {
    // Budget: enough distinct tokens for COLD_DURATION seconds at a generous rate, capped so RS256
    // minting (≈1,500 signatures/s per core) stays within a few seconds.
    const budget = { ES256: 14_000, RS256: 9_000, EdDSA: 14_000, HS256: 14_000 };
    const warm = 400;
    const dir = join(tmpdir(), `gatehouse-bench-tokens-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    tempDirs.push(dir);
    const tm = Date.now();
    for (const set of coldSets) {
      const { alg } = set;
      const k = keys.find((x) => x.alg === alg);
      const count = (budget[alg] + warm) * ROUNDS + 1;
      const hs = alg === 'HS256' ? hs256Minter(hsSecret, { iss: HS_ISSUER, aud: AUDIENCE }) : null;
      const tokens = hs
        ? Array.from({ length: count }, (_, i) => hs(i))
        : await mintTokens({ alg, privateJwk: k.privateJwk, kid: k.kid, claims: { iss: ISSUER, aud: AUDIENCE, groups: ['staff'] }, count });
      tokenFiles[set.id] = join(dir, `${set.id}.txt`);
      writeFileSync(tokenFiles[set.id], tokens.join('\n'));
      perRound[set.id] = { warm, budget: budget[alg], host: set.host };
      // The last token is the probe (each token is used exactly once).
      await expect(`gatehouse cold ${set.id}`, gh.dataPort, { path: '/', host: set.host, headers: { authorization: `Bearer ${tokens[count - 1]}` } }, 200);
    }
    log(`minted ${coldSets.map((c) => `${(budget[c.alg] + 400) * ROUNDS} ${c.id}`).join(', ')} tokens in ${((Date.now() - tm) / 1000).toFixed(1)} s`);
  }

  // ---------------------------------------------------------------- jose micro-benchmark (idle machine)
  let jose = null;
  const joseAlgs = [...new Set(coldSets.map((c) => c.alg))];
  if (joseAlgs.length) {
    const r = await runToEnd(process.execPath, [join(BENCH_DIR, 'jose-verify.mjs'), '--ms', '1200', '--algs', joseAlgs.join(',')]);
    const line = r.stdout.split('\n').find((l) => l.startsWith('JVJSON '));
    if (line) jose = JSON.parse(line.slice(7));
    else notes.push(`jose micro-benchmark failed: ${firstLine(r.stderr)}`);
    log('jose jwtVerify micro-benchmark done');
  }

  // ---------------------------------------------------------------- cases
  const base = (port) => `http://127.0.0.1:${port}/`;
  const cookieHeader = `${COOKIE}=${cookie}`;
  const cases = [
    { id: 'upstream', label: 'upstream direct', url: base(upstream.port), headers: {}, pid: upstream.pid },
    { id: 'bare', label: 'bare http-proxy-3 (native http.Agent)', url: base(bare.port), headers: {}, pid: bare.pid },
    bareFetch && { id: 'bare-fetch', label: 'bare http-proxy-3 (fetch path, undici Agent)', url: base(bareFetch.port), headers: {}, pid: bareFetch.pid },
    nginx && { id: 'nginx', label: 'nginx proxy_pass (keepalive 64, 1 worker)', url: base(nginx.port), headers: {}, pid: nginx.pid, tree: true },
    nginx?.faPort && {
      id: 'nginx-fa',
      label: 'nginx auth_request → Gatehouse forward-auth, cached allow (CPU: nginx + Gatehouse)',
      url: base(nginx.faPort),
      headers: { host: HOSTS.fa, cookie: cookieHeader },
      pid: nginx.pid,
      tree: true,
      alsoPid: gh.pid,
      parts: ['nginx', 'Gatehouse'],
      expect: 200,
    },
    nginxBase?.faPort && {
      id: 'nginx-fa-base',
      label: `nginx auth_request → Gatehouse forward-auth, baseline build (${opt['fa-baseline']}) (CPU: nginx + Gatehouse)`,
      url: base(nginxBase.faPort),
      headers: { host: HOSTS.fa, cookie: cookieHeader },
      pid: nginxBase.pid,
      tree: true,
      alsoPid: ghBase.pid,
      parts: ['nginx', 'Gatehouse'],
      expect: 200,
    },
    nginxFloor?.faPort && {
      id: 'nginx-fa-floor',
      label: 'FLOOR, not Gatehouse: nginx auth_request → bare node:http answering the same 200 + identity headers, no auth work (CPU: nginx + node)',
      url: base(nginxFloor.faPort),
      headers: { host: HOSTS.fa, cookie: cookieHeader },
      pid: nginxFloor.pid,
      tree: true,
      alsoPid: floor.pid,
      parts: ['nginx', 'node:http'],
      expect: 200,
    },
    { id: 'gh-bypass', label: 'Gatehouse bypass app', url: base(gh.dataPort), headers: { host: HOSTS.bypass }, pid: gh.pid, expect: 200 },
    { id: 'gh-allow', label: 'Gatehouse allow, cache hit (ES256 cookie, audit on)', url: base(gh.dataPort), headers: { host: HOSTS.allow, cookie: cookieHeader }, pid: gh.pid, expect: 200 },
    { id: 'gh-allow-noassert', label: 'Gatehouse allow, cache hit, app with jwt_assertion: false', url: base(gh.dataPort), headers: { host: HOSTS.plain, cookie: cookieHeader }, pid: gh.pid, expect: 200 },
    { id: 'gh-deny', label: 'Gatehouse deny (403)', url: base(gh.dataPort), headers: { host: HOSTS.deny, cookie: cookieHeader, accept: 'application/json' }, pid: gh.pid, expect: 403 },
    gh2 && { id: 'gh-allow-w2', label: 'Gatehouse allow, cache hit, workers: 2', url: base(gh2.dataPort), headers: { host: HOSTS.allow, cookie: cookieHeader }, pid: gh2.pid, tree: true, expect: 200 },
    ...coldAlgs.map((alg) => ({ id: `cold-${alg}`, label: `Gatehouse cold verify, new ${alg} token per request`, cold: alg, pid: gh.pid })),
    perRound['ES256-noassert'] && { id: NOASSERT, label: 'Gatehouse cold verify ES256, app with jwt_assertion: false', cold: 'ES256-noassert', pid: gh.pid },
  ].filter((c) => c && wanted(c.id));

  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const results = {};
    for (const c of cases) {
      results[c.id] = c.cold ? await runCold(c, r, gh, tokenFiles, perRound) : await runCase(tool, c);
      const x = results[c.id];
      log(
        `round ${r + 1}/${ROUNDS} ${c.id.padEnd(12)} ${fmt.n(x.rps).padStart(7)} req/s  p50 ${fmt.ms(x.p50Ms)} ms  p99 ${fmt.ms(x.p99Ms)} ms` +
          (x.cpuUsPerRequest !== undefined ? `  cpu ${fmt.n(x.cpuUsPerRequest, 1)} µs/req` : '') +
          (x.unexpected ? `  UNEXPECTED ${x.unexpected}${x.diagnosis ? ' ' + JSON.stringify(x.diagnosis) : ''}` : ''),
      );
    }
    rounds.push(results);
  }

  // ---------------------------------------------------------------- summary
  const summary = summarize(cases, rounds);
  const targets = evaluateTargets(summary, jose);
  const finished = new Date();
  machine.loadAverageEnd = machineNotes().loadAverage;
  const result = {
    started: started.toISOString(),
    finished: finished.toISOString(),
    wallSeconds: (Date.now() - t0) / 1000,
    machine,
    settings: {
      rounds: ROUNDS,
      durationSec: DURATION,
      warmupSec: WARMUP,
      connections: CONNECTIONS,
      coldDurationSec: COLD_DURATION,
      coldConcurrency: CONNECTIONS,
      gatehouseLogLevel: LOG_LEVEL,
      audit: 'on (record_allowed: aggregate, the default), SQLite store',
      workers,
      upstream: 'bench/upstream.mjs: 200 "ok\\n", 3-byte body, keep-alive',
      loadThreads: tool.name === 'wrk' ? 1 : 'autocannon (1 process)',
    },
    cases: cases.map(({ id, label }) => ({ id, label })),
    summary,
    rounds,
    jose,
    targets,
    notes,
  };
  const md = markdown(result);
  if (!opt['no-write']) {
    const dir = join(BENCH_DIR, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(dir, 'latest.md'), md);
    log(`wrote ${file} and bench/results/latest.md`);
  }
  process.stdout.write(md);
}

// ---------------------------------------------------------------- runners

async function runCase(tool, c) {
  if (WARMUP > 0) await runLoad(tool, { url: c.url, headers: c.headers, connections: CONNECTIONS, durationSec: WARMUP });
  // alsoPid: a second process serving the case (Gatehouse answering nginx's auth sub-requests).
  const cpuMain = () => cpuSeconds(c.pid, !!c.tree);
  const cpuAlso = () => (c.alsoPid ? cpuSeconds(c.alsoPid) : 0);
  const main0 = cpuMain();
  const also0 = cpuAlso();
  const r = await runLoad(tool, { url: c.url, headers: c.headers, connections: CONNECTIONS, durationSec: DURATION });
  const main = cpuMain() - main0;
  const also = cpuAlso() - also0;
  const perReq = (sec) => (sec * 1e6) / Math.max(1, r.requests);
  const out = { ...r, cpuUsPerRequest: perReq(main + also) };
  // Each process's share (nginx vs the process answering its sub-requests).
  if (c.alsoPid) out.cpuPartsUs = [perReq(main), perReq(also)];
  // wrk counts responses ≥ 400 as status errors: expected for the deny case, a fault anywhere else.
  const expectedBad = c.expect && c.expect >= 400 ? r.requests : 0;
  if (r.non2xx !== expectedBad) out.unexpected = `${r.non2xx} responses with status ≥ 400 (expected ${expectedBad})`;
  if (r.errors) out.unexpected = `${out.unexpected ? out.unexpected + '; ' : ''}${r.errors} socket errors`;
  if (out.unexpected) out.diagnosis = await diagnose(c);
  return out;
}

/** After an unexpected result: what does a plain request get now? (status and body excerpt) */
async function diagnose(c) {
  const u = new URL(c.url);
  const seen = {};
  for (let i = 0; i < 10; i++) {
    const r = await probe(Number(u.port), { path: u.pathname, headers: c.headers }).catch((err) => ({ status: `error ${err.code ?? err.message}`, body: '' }));
    seen[r.status] ??= { count: 0, body: String(r.body).slice(0, 200) };
    seen[r.status].count++;
  }
  return seen;
}

async function runCold(c, round, gh, tokenFiles, perRound) {
  const { warm, budget } = perRound[c.cold];
  const offset = round * (warm + budget);
  const r = await runToEnd(process.execPath, [
    join(BENCH_DIR, 'tokens-load.mjs'),
    '--url', `http://127.0.0.1:${gh.dataPort}/`,
    '--host', perRound[c.cold].host,
    '--tokens', tokenFiles[c.cold],
    '--offset', String(offset),
    '--count', String(warm + budget),
    '--warmup', String(warm),
    '--concurrency', String(CONNECTIONS),
    '--duration', String(COLD_DURATION),
    '--cpu-pid', String(gh.pid),
  ]);
  const line = r.stdout.split('\n').find((l) => l.startsWith('TLJSON '));
  if (!line) throw new Error(`tokens-load failed: ${r.stderr}`);
  const j = JSON.parse(line.slice(7));
  const out = { requests: j.requests, durationSec: j.seconds, rps: j.rps, p50Ms: j.p50Ms, p99Ms: j.p99Ms, cpuUsPerRequest: j.cpuUsPerRequest, statuses: j.statuses, exhausted: j.exhausted };
  if (j.non200 || j.errors) out.unexpected = `${j.non200} non-200, ${j.errors} errors: ${JSON.stringify(j.statuses)}`;
  return out;
}

// ---------------------------------------------------------------- summary and targets

function summarize(cases, rounds) {
  const perRound = (id, f) => rounds.map((r) => (r[id] ? f(r[id], r) : null));
  const out = {};
  for (const c of cases) {
    const rps = perRound(c.id, (x) => x.rps);
    const ratio = perRound(c.id, (x, r) => (r.bare ? x.rps / r.bare.rps : null));
    out[c.id] = {
      label: c.label,
      rps: { median: median(rps), range: minMax(rps) },
      p50Ms: { median: median(perRound(c.id, (x) => x.p50Ms)), range: minMax(perRound(c.id, (x) => x.p50Ms)) },
      p99Ms: { median: median(perRound(c.id, (x) => x.p99Ms)), range: minMax(perRound(c.id, (x) => x.p99Ms)) },
      cpuUsPerRequest: { median: median(perRound(c.id, (x) => x.cpuUsPerRequest)), range: minMax(perRound(c.id, (x) => x.cpuUsPerRequest)) },
      ...(c.parts ? { cpuParts: c.parts.map((name, i) => ({ name, median: median(perRound(c.id, (x) => x.cpuPartsUs?.[i] ?? null)) })) } : {}),
      ratioToBare: { median: median(ratio), range: minMax(ratio) },
      unexpected: rounds.map((r) => r[c.id]?.unexpected).filter(Boolean),
    };
  }
  // Pairwise ratios the targets use, each taken within a round, then the median.
  const pair = (a, b, f = (x, y) => x.rps / y.rps) => {
    const v = rounds.map((r) => (r[a] && r[b] ? f(r[a], r[b]) : null));
    return v.some((x) => x !== null) ? { median: median(v), range: minMax(v) } : null;
  };
  out._pairs = {
    allowVsBypass: pair('gh-allow', 'gh-bypass'),
    allowP99MinusBypassP99Ms: pair('gh-allow', 'gh-bypass', (x, y) => x.p99Ms - y.p99Ms),
    bypassVsBare: pair('gh-bypass', 'bare'),
    bypassVsBareFetch: pair('gh-bypass', 'bare-fetch'),
    bareFetchVsBare: pair('bare-fetch', 'bare'),
    bypassVsNginx: pair('gh-bypass', 'nginx'),
    allowVsNginx: pair('gh-allow', 'nginx'),
    bareVsNginx: pair('bare', 'nginx'),
    forwardAuthVsNginx: pair('nginx-fa', 'nginx'),
    forwardAuthVsAllow: pair('nginx-fa', 'gh-allow'),
    floorVsNginx: pair('nginx-fa-floor', 'nginx'),
    forwardAuthVsFloor: pair('nginx-fa', 'nginx-fa-floor'),
    floorVsAllow: pair('nginx-fa-floor', 'gh-allow'),
    forwardAuthVsBaseline: pair('nginx-fa', 'nginx-fa-base'),
    baselineVsNginx: pair('nginx-fa-base', 'nginx'),
    w2VsW1Allow: pair('gh-allow-w2', 'gh-allow'),
    denyVsBypass: pair('gh-deny', 'gh-bypass'),
    allowCpuMinusBypassCpuUs: pair('gh-allow', 'gh-bypass', (x, y) => x.cpuUsPerRequest - y.cpuUsPerRequest),
    allowNoAssertVsBypass: pair('gh-allow-noassert', 'gh-bypass'),
    bypassCpuMinusBareCpuUs: pair('gh-bypass', 'bare', (x, y) => x.cpuUsPerRequest - y.cpuUsPerRequest),
  };
  // Latency each mode adds over the upstream direct, per round, then the median.
  out._addedLatencyMs = {};
  for (const id of ['nginx', 'nginx-fa', 'nginx-fa-floor', 'bare', 'gh-bypass', 'gh-allow']) {
    const p50 = pair(id, 'upstream', (x, y) => x.p50Ms - y.p50Ms);
    const p99 = pair(id, 'upstream', (x, y) => x.p99Ms - y.p99Ms);
    if (p50 && p99) out._addedLatencyMs[id] = { p50, p99 };
  }
  for (const alg of ALL_COLD) {
    out._pairs[`cold${alg}CpuMinusBypassCpuUs`] = pair(`cold-${alg}`, 'gh-bypass', (x, y) => x.cpuUsPerRequest - y.cpuUsPerRequest);
  }
  out._pairs.coldNoAssertCpuMinusBypassCpuUs = pair(NOASSERT, 'gh-bypass', (x, y) => x.cpuUsPerRequest - y.cpuUsPerRequest);
  return out;
}

function evaluateTargets(s, jose) {
  const p = s._pairs;
  const t = [];
  const add = (name, target, measured, met, note = '') => t.push({ name, target, measured, met, note });
  if (p.allowVsBypass) {
    add('Allow (cache hit, audit on) vs bypass throughput', '≥ 0.95×', fmt.ratio(p.allowVsBypass.median), p.allowVsBypass.median >= 0.95);
    add('Allow p99 − bypass p99', '≤ 1 ms', `${fmt.ms(p.allowP99MinusBypassP99Ms.median)} ms`, p.allowP99MinusBypassP99Ms.median <= 1);
  }
  if (p.bypassVsBare) add('Bypass vs bare http-proxy-3', '≥ 1.0×', fmt.ratio(p.bypassVsBare.median), p.bypassVsBare.median >= 1.0);
  if (p.bypassVsNginx) add('Stretch: bypass vs nginx proxy_pass', '≥ 0.60×', fmt.ratio(p.bypassVsNginx.median), p.bypassVsNginx.median >= 0.6, `bare proxy vs nginx: ${fmt.ratio(p.bareVsNginx?.median)}`);
  else if (wanted('nginx')) add('Stretch: bypass vs nginx proxy_pass', '≥ 0.60×', 'skipped', null, 'nginx not installed or not started (see the notes)');
  if (p.forwardAuthVsNginx) {
    add(
      'nginx auth_request → forward-auth (cached allow) vs nginx proxy_pass alone',
      '≥ 0.5×',
      fmt.ratio(p.forwardAuthVsNginx.median),
      p.forwardAuthVsNginx.median >= 0.5,
      p.floorVsNginx ? `the floor (bare node:http answering, no auth work) reaches ${fmt.ratio(p.floorVsNginx.median)}; forward-auth vs floor ${fmt.ratio(p.forwardAuthVsFloor.median)}` : '',
    );
  }
  if (p.forwardAuthVsAllow) {
    add(
      'nginx auth_request → forward-auth vs Gatehouse proxy-mode allow',
      '≥ 2×',
      fmt.ratio(p.forwardAuthVsAllow.median),
      p.forwardAuthVsAllow.median >= 2,
      p.floorVsAllow ? `the floor reaches ${fmt.ratio(p.floorVsAllow.median)}` : '',
    );
  }
  for (const alg of ALL_COLD) {
    const d = p[`cold${alg}CpuMinusBypassCpuUs`];
    const cold = s[`cold-${alg}`];
    if (!d || !cold) continue;
    const floor = jose?.[alg]?.nodeCrypto?.cpuUsPerOp;
    const verify = jose?.[alg]?.sequential?.cpuUsPerOp;
    add(
      `Cold ${alg}: CPU/request − bypass CPU/request`,
      `≤ ${FLOOR_FACTOR} × node:crypto verify (${floor ? fmt.n(FLOOR_FACTOR * floor, 0) + ' µs' : '?'})`,
      `${fmt.n(d.median, 0)} µs (cold ${fmt.n(cold.cpuUsPerRequest.median, 0)} µs/req; floor ${floor ? fmt.n(floor, 1) : '?'} µs, jose jwtVerify ${verify ? fmt.n(verify, 0) : '?'} µs)`,
      floor ? d.median <= FLOOR_FACTOR * floor : null,
      alg === 'HS256' ? '' : 'includes the ES256 signature of the upstream assertion for a new identity',
    );
  }
  const hsCold = s['cold-HS256'];
  if (hsCold && s['gh-bypass']) {
    const r = hsCold.cpuUsPerRequest.median / s['gh-bypass'].cpuUsPerRequest.median;
    add('New HS256 token: CPU/request vs bypass CPU/request', '≤ 2×', `${fmt.ratio(r)} (${fmt.n(hsCold.cpuUsPerRequest.median, 0)} vs ${fmt.n(s['gh-bypass'].cpuUsPerRequest.median, 0)} µs)`, r <= 2);
  }
  const plain = p.coldNoAssertCpuMinusBypassCpuUs;
  const floorEs = jose?.ES256?.nodeCrypto?.cpuUsPerOp;
  if (plain && s[NOASSERT]) {
    add(
      'Cold ES256, jwt_assertion: false: CPU/request − bypass CPU/request',
      `≤ ${FLOOR_FACTOR} × node:crypto verify (${floorEs ? fmt.n(FLOOR_FACTOR * floorEs, 0) + ' µs' : '?'})`,
      `${fmt.n(plain.median, 0)} µs (cold ${fmt.n(s[NOASSERT].cpuUsPerRequest.median, 0)} µs/req)`,
      floorEs ? plain.median <= FLOOR_FACTOR * floorEs : null,
      'the same request without the ES256 assertion signature',
    );
  }
  return t;
}

// ---------------------------------------------------------------- report

function markdown(res) {
  const s = res.summary;
  const m = res.machine;
  const L = [];
  L.push(`### Gatehouse benchmark — ${res.started}`);
  L.push('');
  L.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}. Load: ${m.loadTool} (${res.settings.loadThreads} thread), ` +
      `${res.settings.connections} keep-alive connections, ${res.settings.rounds} rounds × ${res.settings.durationSec} s per case after ${res.settings.warmupSec} s warm-up, cases interleaved. ` +
      `Load average at start ${m.loadAverage.join(' / ')}, at end ${m.loadAverageEnd.join(' / ')}. ` +
      `Load generator, upstream and proxy share the ${m.cores} cores. Gatehouse log level: ${res.settings.gatehouseLogLevel}; audit: ${res.settings.audit}. Wall time ${fmt.n(res.wallSeconds, 0)} s.`,
  );
  L.push('');
  L.push('| case | req/s (median) | req/s min–max | p50 ms | p99 ms (min–max) | CPU µs/req | × bare (same round) |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const c of res.cases) {
    const x = s[c.id];
    const flag = x.unexpected.length ? ' ⚠' : '';
    L.push(
      `| ${x.label}${flag} | ${fmt.n(x.rps.median)} | ${fmt.n(x.rps.range[0])}–${fmt.n(x.rps.range[1])} | ${fmt.ms(x.p50Ms.median)} | ${fmt.ms(x.p99Ms.median)} (${fmt.ms(x.p99Ms.range[0])}–${fmt.ms(x.p99Ms.range[1])}) | ${fmt.n(x.cpuUsPerRequest.median, 1)} | ${fmt.ratio(x.ratioToBare.median)} (${fmt.ratio(x.ratioToBare.range[0])}–${fmt.ratio(x.ratioToBare.range[1])}) |`,
    );
  }
  L.push('');
  L.push('CPU µs/req: user+system CPU of the measured process (and its children for nginx and workers: 2) from /proc, divided by the requests of the run.');
  const split = res.cases.filter((c) => s[c.id].cpuParts);
  if (split.length) {
    L.push('Forward-auth CPU µs/req by process: ' + split.map((c) => `${c.id} ${s[c.id].cpuParts.map((x) => `${x.name} ${fmt.n(x.median, 1)}`).join(' + ')}`).join(' · ') + '.');
  }
  const cold = res.cases.filter((c) => c.id.startsWith('cold-'));
  if (cold.length) {
    L.push(`Cold cases: bench/tokens-load.mjs (undici Pool, ${res.settings.coldConcurrency} connections), a new token per request, at most ${res.settings.coldDurationSec} s or until its share of the pre-minted tokens runs out.`);
  }
  if (res.jose) {
    L.push('');
    L.push('| jose jwtVerify (local JWKS) | sequential ops/s | CPU µs/op | 32 in flight ops/s | CPU µs/op | node:crypto floor CPU µs/op |');
    L.push('|---|---:|---:|---:|---:|---:|');
    for (const [alg, v] of Object.entries(res.jose)) {
      L.push(`| ${alg} | ${fmt.n(v.sequential.opsPerSec)} | ${fmt.n(v.sequential.cpuUsPerOp, 1)} | ${fmt.n(v.concurrent32.opsPerSec)} | ${fmt.n(v.concurrent32.cpuUsPerOp, 1)} | ${fmt.n(v.nodeCrypto?.cpuUsPerOp, 1)} |`);
    }
  }
  L.push('');
  L.push('| target | goal | measured (median of per-round values) | met |');
  L.push('|---|---|---|---|');
  for (const t of res.targets) L.push(`| ${t.name} | ${t.target} | ${t.measured}${t.note ? ` — ${t.note}` : ''} | ${t.met === null ? 'n/a' : t.met ? 'yes' : 'no'} |`);
  const added = Object.entries(s._addedLatencyMs);
  if (added.length) {
    L.push('');
    L.push('| mode | added latency over the upstream direct: p50 ms | p99 ms |');
    L.push('|---|---:|---:|');
    for (const [id, v] of added) L.push(`| ${s[id].label} | ${fmt.ms(v.p50.median)} | ${fmt.ms(v.p99.median)} |`);
    L.push('');
    L.push('Median over rounds of (case − upstream direct), each taken within its round; at 50 connections these include queueing in the proxy.');
  }
  const p = s._pairs;
  const extra = [];
  if (p.bareFetchVsBare) extra.push(`bare fetch path vs native: ${fmt.ratio(p.bareFetchVsBare.median)}`);
  if (p.bypassVsBareFetch) extra.push(`bypass vs bare fetch path: ${fmt.ratio(p.bypassVsBareFetch.median)}`);
  if (p.forwardAuthVsBaseline) extra.push(`nginx-fa vs the baseline build: ${fmt.ratio(p.forwardAuthVsBaseline.median)} (baseline vs nginx: ${fmt.ratio(p.baselineVsNginx.median)})`);
  if (p.denyVsBypass) extra.push(`deny vs bypass: ${fmt.ratio(p.denyVsBypass.median)}`);
  if (p.allowNoAssertVsBypass) extra.push(`allow without the assertion (jwt_assertion: false) vs bypass: ${fmt.ratio(p.allowNoAssertVsBypass.median)}`);
  if (p.allowCpuMinusBypassCpuUs) extra.push(`allow − bypass CPU: ${fmt.n(p.allowCpuMinusBypassCpuUs.median, 1)} µs/req`);
  if (p.bypassCpuMinusBareCpuUs) extra.push(`bypass − bare CPU: ${fmt.n(p.bypassCpuMinusBareCpuUs.median, 1)} µs/req`);
  extra.push(`workers: 2 — ${res.settings.workers.status}${p.w2VsW1Allow ? `; allow w2 vs w1: ${fmt.ratio(p.w2VsW1Allow.median)}` : ''}`);
  L.push('');
  L.push(extra.join(' · '));
  const warn = res.cases.flatMap((c) => s[c.id].unexpected.map((u) => `${c.id}: ${u}`));
  if (warn.length || res.notes.length) {
    L.push('');
    for (const n of res.notes) L.push(`- note: ${n}`);
    for (const w of warn) L.push(`- ⚠ ${w}`);
  }
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------- helpers

async function startNode(name, args) {
  const svc = startService(name, process.execPath, args, { readyLine: (j) => (j && j.msg === 'listening' ? j : undefined) });
  services.push(svc);
  const j = await svc.ready;
  svc.port = j.port;
  return svc;
}

/**
 * nginx, one worker: proxy_pass alone on one port and, when `gatehousePort` is given, the
 * forward-auth recipe of docs/forward-auth/ (auth_request to Gatehouse) on another, both to the
 * same upstream. Its connections leave from FA_PEER, the gateway's only trusted proxy.
 */
async function startNginx(upstreamPort, gatehousePort, name = 'nginx') {
  const bin = which('nginx');
  if (!bin) {
    notes.push('nginx not installed: nginx cases skipped (Debian: apt-get install nginx-light).');
    return null;
  }
  const dir = join(tmpdir(), `gatehouse-bench-${name}-${process.pid}`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  tempDirs.push(dir);
  const port = await freePort();
  const faPort = gatehousePort ? await freePort() : null;
  const recipes = join(BENCH_DIR, '..', 'docs', 'forward-auth');
  const app = `
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering on;`;
  const pool = (name, upstreamPort) => `
  upstream ${name} {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 100000;
  }`;
  const forwardAuth = faPort
    ? `${pool('gatehouse', gatehousePort)}
  server {
    listen 127.0.0.1:${faPort};
    proxy_bind ${FA_PEER};
    include ${recipes}/nginx-endpoints.conf;
    location / {
      include ${recipes}/nginx-auth.conf;${app}
    }
  }`
    : '';
  const conf = `
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 100000;${pool('app', upstreamPort)}
  server {
    listen 127.0.0.1:${port};
    location / {${app}
    }
  }${forwardAuth}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const svc = startService(name, bin, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);
  services.push(svc);
  try {
    await waitForPort(port, 10_000, '127.0.0.1', () => !svc.exited);
  } catch (err) {
    notes.push(`nginx failed to start, cases skipped: ${firstLine(svc.stderr || err.message)}`);
    return null;
  }
  svc.port = port;
  svc.faPort = faPort;
  return svc;
}

/** Gatehouse's own answer to nginx's sub-request for this cookie (asked from FA_PEER): the floor answers the same. */
function forwardAuthAnswer(port, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        localAddress: FA_PEER,
        path: '/.gatehouse/auth',
        headers: { host: HOSTS.fa, cookie, 'x-original-url': `http://${HOSTS.fa}/`, 'x-original-method': 'GET' },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(res.headers) : reject(new Error(`forward-auth answer: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function wrkVersion() {
  const r = await runToEnd('wrk', ['--version']);
  return firstLine(r.stdout || r.stderr);
}

function firstLine(s) {
  return String(s ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 3)
    .join(' | ')
    .slice(0, 400);
}

async function shutdown() {
  await Promise.all(services.map((s) => s.stop('SIGTERM', 8000)));
  for (const d of tempDirs) cleanup(d);
}

try {
  await main();
  await shutdown();
} catch (err) {
  console.error(`bench failed: ${err.stack ?? err}`);
  await shutdown();
  process.exit(1);
}

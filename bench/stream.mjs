// 1 GiB streamed up (POST body) and down (GET) through Gatehouse (bypass app) and through the bare
// http-proxy-3 proxy, with the upstream direct as a reference. Reports MiB/s per direction, the
// ratio to the bare proxy within each round, and Gatehouse's peak RSS (VmRSS sampled every 100 ms,
// and VmHWM, the kernel's high-water mark for the whole process life).
// Targets (issue 2 / issue 6): ≥ 0.9× the bare proxy both ways; peak RSS < 150 MiB.
//   node bench/stream.mjs [--mib 1024] [--rounds 3] [--warmup-mib 128] [--node-args '…'] [--no-write]
import { benchArgs } from './lib/args.mjs';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, cpuSeconds, fmt, machineNotes, median, memory, minMax, sampleRss, startService } from './lib/proc.mjs';
import { HOSTS, cleanup, prepareGateway, startGatehouse } from './lib/gatehouse.mjs';
import { performance } from 'node:perf_hooks';

const { values: o } = benchArgs(import.meta.url, {
  mib: { type: 'string', default: '1024' },
  rounds: { type: 'string', default: '3' },
  'warmup-mib': { type: 'string', default: '128' },
  'node-args': { type: 'string', default: '' },
  'log-level': { type: 'string', default: 'warn' },
  'no-write': { type: 'boolean', default: false },
});
let BYTES = Number(o.mib) * 1024 * 1024;
const WARMUP_BYTES = Number(o['warmup-mib']) * 1024 * 1024;
const ROUNDS = Number(o.rounds);
const RSS_LIMIT_MIB = 150;
const RATIO_TARGET = 0.9;
const CHUNK = Buffer.alloc(64 * 1024, 0x62);
const log = (...a) => process.stderr.write(`[stream] ${a.join(' ')}\n`);
const started = new Date();
const agent = new http.Agent({ keepAlive: false });

/** POSTs BYTES with backpressure; resolves seconds until the upstream's answer arrived. */
function upload(port, host) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/upload', agent, headers: { host, 'content-type': 'application/octet-stream', 'content-length': BYTES } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          const seconds = (performance.now() - t0) / 1000;
          if (res.statusCode !== 200) return reject(new Error(`upload: status ${res.statusCode}: ${body.slice(0, 200)}`));
          const received = JSON.parse(body).received;
          if (received !== BYTES) return reject(new Error(`upload: upstream received ${received} of ${BYTES} bytes`));
          resolve(seconds);
        });
      },
    );
    req.on('error', reject);
    let left = BYTES;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** GETs BYTES; resolves seconds until the last byte. */
function download(port, host) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: `/bytes/${BYTES}`, agent, headers: { host } }, (res) => {
      let got = 0;
      res.on('data', (c) => (got += c.length));
      res.on('end', () => {
        const seconds = (performance.now() - t0) / 1000;
        if (res.statusCode !== 200) return reject(new Error(`download: status ${res.statusCode}`));
        if (got !== BYTES) return reject(new Error(`download: got ${got} of ${BYTES} bytes`));
        resolve(seconds);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const services = [];
let gwDir = null;
try {
  const up = startService('upstream', process.execPath, [join(BENCH_DIR, 'upstream.mjs')], { readyLine: (j) => j.msg === 'listening' && j });
  services.push(up);
  const { port: upPort } = await up.ready;
  const bare = startService('bare-proxy', process.execPath, [join(BENCH_DIR, 'bare-proxy.mjs'), '--target', `http://127.0.0.1:${upPort}`], { readyLine: (j) => j.msg === 'listening' && j });
  services.push(bare);
  const { port: barePort } = await bare.ready;
  const gw = await prepareGateway({ upstream: `http://127.0.0.1:${upPort}`, logLevel: o['log-level'] });
  gwDir = gw.dir;
  // e.g. --node-args='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the gateway during the transfers.
  const gh = await startGatehouse(gw, { nodeArgs: o['node-args'] ? o['node-args'].split(' ').filter(Boolean) : [] });
  services.push(gh);
  const ghIdleMiB = memory(gh.pid).rssKiB / 1024;
  log(`upstream ${upPort}, bare ${barePort}, gatehouse ${gw.dataPort} (pid ${gh.pid}, idle RSS ${ghIdleMiB.toFixed(0)} MiB); ${o.mib} MiB per transfer, ${ROUNDS} rounds`);

  const targets = {
    direct: { port: upPort, host: '127.0.0.1', pid: up.pid },
    bare: { port: barePort, host: '127.0.0.1', pid: bare.pid },
    gatehouse: { port: gw.dataPort, host: HOSTS.bypass, pid: gh.pid },
  };
  // Warm-up: a smaller transfer each way on every path (JIT, socket buffers, heap sizing).
  if (WARMUP_BYTES > 0) {
    const full = BYTES;
    BYTES = WARMUP_BYTES;
    for (const t of Object.values(targets)) {
      await upload(t.port, t.host);
      await download(t.port, t.host);
    }
    BYTES = full;
  }
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = {};
    for (const dir of ['up', 'down']) {
      for (const name of ['direct', 'bare', 'gatehouse']) {
        const t = targets[name];
        const rss = sampleRss(t.pid, 100);
        const cpu0 = cpuSeconds(t.pid);
        const seconds = dir === 'up' ? await upload(t.port, t.host) : await download(t.port, t.host);
        const cpuPerGiB = (cpuSeconds(t.pid) - cpu0) / (BYTES / 2 ** 30);
        const mem = rss.stop();
        round[`${name}-${dir}`] = { seconds, mibPerSec: BYTES / 2 ** 20 / seconds, peakRssMiB: mem.peakRssMiB, cpuSecPerGiB: cpuPerGiB };
        log(`round ${r + 1} ${dir.padEnd(4)} ${name.padEnd(9)} ${fmt.n(BYTES / 2 ** 20 / seconds)} MiB/s, ${cpuPerGiB.toFixed(2)} CPU s/GiB, peak RSS ${mem.peakRssMiB.toFixed(0)} MiB`);
      }
    }
    rounds.push(round);
  }
  const ghHwmMiB = memory(gh.pid).hwmKiB / 1024;
  const bareHwmMiB = memory(bare.pid).hwmKiB / 1024;

  const summary = {};
  for (const key of Object.keys(rounds[0])) {
    const v = rounds.map((r) => r[key].mibPerSec);
    summary[key] = { mibPerSec: median(v), range: minMax(v), peakRssMiB: Math.max(...rounds.map((r) => r[key].peakRssMiB)), cpuSecPerGiB: median(rounds.map((r) => r[key].cpuSecPerGiB)) };
  }
  const ratio = (dir) => {
    const v = rounds.map((r) => r[`gatehouse-${dir}`].mibPerSec / r[`bare-${dir}`].mibPerSec);
    return { median: median(v), range: minMax(v) };
  };
  const ratios = { up: ratio('up'), down: ratio('down') };
  const ghPeak = Math.max(summary['gatehouse-up'].peakRssMiB, summary['gatehouse-down'].peakRssMiB, ghHwmMiB);
  const targetsMet = {
    rss: { goal: `< ${RSS_LIMIT_MIB} MiB`, measured: ghPeak, met: ghPeak < RSS_LIMIT_MIB },
    up: { goal: `≥ ${RATIO_TARGET}× bare`, measured: ratios.up.median, met: ratios.up.median >= RATIO_TARGET },
    down: { goal: `≥ ${RATIO_TARGET}× bare`, measured: ratios.down.median, met: ratios.down.median >= RATIO_TARGET },
  };
  const result = {
    started: started.toISOString(),
    machine: machineNotes(),
    settings: { bytes: BYTES, warmupBytes: WARMUP_BYTES, rounds: ROUNDS, gatehouseLogLevel: o['log-level'], client: 'node:http in bench/stream.mjs, 64 KiB writes with backpressure, content-length set' },
    gatehouse: { idleRssMiB: ghIdleMiB, hwmMiB: ghHwmMiB },
    bareHwmMiB,
    summary,
    ratios,
    targets: targetsMet,
    rounds,
  };

  const L = [];
  L.push(`### Streaming ${o.mib} MiB — ${result.started}`);
  L.push('');
  L.push(`${result.machine.cpuModel}, ${result.machine.cores} cores, Node ${result.machine.node}; client, upstream and proxy are separate processes sharing the cores. Median of ${ROUNDS} rounds (direct, bare, Gatehouse interleaved) after a ${o['warmup-mib']} MiB warm-up each way on each path. Peak RSS: VmRSS sampled every 100 ms during the transfers; the target uses the larger of that and VmHWM.`);
  L.push('');
  L.push('| path | up MiB/s (min–max) | down MiB/s (min–max) | CPU s/GiB of the process up / down | peak RSS during transfers |');
  L.push('|---|---:|---:|---:|---:|');
  for (const name of ['direct', 'bare', 'gatehouse']) {
    const u = summary[`${name}-up`];
    const d = summary[`${name}-down`];
    const label = { direct: 'upstream direct', bare: 'bare http-proxy-3', gatehouse: 'Gatehouse (bypass app)' }[name];
    L.push(`| ${label} | ${fmt.n(u.mibPerSec)} (${fmt.n(u.range[0])}–${fmt.n(u.range[1])}) | ${fmt.n(d.mibPerSec)} (${fmt.n(d.range[0])}–${fmt.n(d.range[1])}) | ${fmt.n(u.cpuSecPerGiB, 2)} / ${fmt.n(d.cpuSecPerGiB, 2)} | ${fmt.n(Math.max(u.peakRssMiB, d.peakRssMiB))} MiB |`);
  }
  L.push('');
  L.push(`Gatehouse: idle RSS ${fmt.n(ghIdleMiB)} MiB, VmHWM (whole life) ${fmt.n(ghHwmMiB)} MiB; bare proxy VmHWM ${fmt.n(bareHwmMiB)} MiB.`);
  L.push('');
  L.push('| target | goal | measured | met |');
  L.push('|---|---|---|---|');
  L.push(`| Gatehouse peak RSS | < ${RSS_LIMIT_MIB} MiB | ${fmt.n(ghPeak)} MiB | ${targetsMet.rss.met ? 'yes' : 'no'} |`);
  L.push(`| Upload vs bare proxy | ≥ ${RATIO_TARGET}× | ${fmt.ratio(ratios.up.median)} (${fmt.ratio(ratios.up.range[0])}–${fmt.ratio(ratios.up.range[1])}) | ${targetsMet.up.met ? 'yes' : 'no'} |`);
  L.push(`| Download vs bare proxy | ≥ ${RATIO_TARGET}× | ${fmt.ratio(ratios.down.median)} (${fmt.ratio(ratios.down.range[0])}–${fmt.ratio(ratios.down.range[1])}) | ${targetsMet.down.met ? 'yes' : 'no'} |`);
  L.push('');
  const md = L.join('\n');
  if (!o['no-write']) {
    const dir = join(BENCH_DIR, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `stream-${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(dir, 'stream-latest.md'), md);
  }
  process.stdout.write(md);
} finally {
  for (const s of services.reverse()) await s.stop();
  if (gwDir) cleanup(gwDir);
}

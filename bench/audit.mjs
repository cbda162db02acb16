// Sustained recording: Gatehouse with `audit.record_allowed: all` (every allowed request becomes a
// decision row) against the default `aggregate` (one row per session and app, bumped in memory),
// both on the allow path with a cached ES256 session cookie, SQLite store. Two gateways run side
// by side and the phases alternate (aggregate, all, aggregate, all …) from one load generator.
// Reports, per phase: requests/s; decision rows written per second (from the store itself); the
// audit queue length over time scraped from /metrics (gatehouse_audit_queue_length) — it must not
// grow; and the gateway's CPU per request. The audit's own cost is the CPU difference
// all − aggregate. Target (issue 6): ≤ 3 µs CPU per request, queue does not grow.
// With --postgres URL both gateways use that PostgreSQL database instead (a fresh schema each,
// dropped at the end); the CPU figures are then the gateway's alone, not the server's.
//   node bench/audit.mjs [--duration 15] [--rounds 2] [--connections 50] [--postgres URL] [--no-write]
import { benchArgs } from './lib/args.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadTool, runLoad } from './lib/load.mjs';
import { BENCH_DIR, cpuSeconds, fmt, httpGetText, machineNotes, median, metricValue, minMax, probe, sleep, startService } from './lib/proc.mjs';
import { COOKIE, HOSTS, cleanup, mintCookie, prepareGateway, startGatehouse } from './lib/gatehouse.mjs';

const { values: o } = benchArgs(import.meta.url, {
  duration: { type: 'string', default: '15' },
  rounds: { type: 'string', default: '2' },
  connections: { type: 'string', default: '50' },
  'log-level': { type: 'string', default: 'warn' },
  tool: { type: 'string' },
  postgres: { type: 'string' },
  'no-write': { type: 'boolean', default: false },
});
const PG = o.postgres;
const DURATION = Number(o.duration);
const ROUNDS = Number(o.rounds);
const CPU_TARGET_US = 3;
const started = new Date();
const log = (...a) => process.stderr.write(`[audit] ${a.join(' ')}\n`);
const services = [];
const dirs = [];

const pgSchemas = [];

/** Each gateway's own store: the SQLite file in its directory, or its own PostgreSQL schema. */
function storeFor(mode) {
  if (!PG) return {};
  const schema = `bench_audit_${mode}_${process.pid}`;
  pgSchemas.push(schema);
  const url = new URL(PG);
  url.searchParams.set('schema', schema);
  return { store: { postgres: url.toString() }, schema };
}

async function pgQuery(sql) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function decisionsMaxId(gw) {
  if (PG) {
    const [row] = await pgQuery(`SELECT coalesce(max(id), 0)::float8 AS n FROM "${gw.schema}".decisions`);
    return row.n;
  }
  const db = new Database(gw.dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT coalesce(max(id), 0) AS n FROM decisions').get().n;
  } finally {
    db.close();
  }
}

/** Least-squares slope (per second) of [t, y] points. */
function slope(points) {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den ? num / den : 0;
}

try {
  const tool = loadTool(o.tool);
  const up = startService('upstream', process.execPath, [join(BENCH_DIR, 'upstream.mjs')], { readyLine: (j) => j.msg === 'listening' && j });
  services.push(up);
  const { port: upPort } = await up.ready;
  const upstream = `http://127.0.0.1:${upPort}`;
  const gws = {};
  let keysFrom;
  for (const mode of ['aggregate', 'all']) {
    const { store, schema } = storeFor(mode);
    const gw = await prepareGateway({ upstream, logLevel: o['log-level'], keysFrom, gateway: { audit: { record_allowed: mode }, ...(store ? { store } : {}) } });
    gw.schema = schema;
    keysFrom ??= gw.keysFile;
    dirs.push(gw.dir);
    const svc = await startGatehouse(gw, { name: `gatehouse-${mode}` });
    services.push(svc);
    gws[mode] = { gw, svc };
  }
  const cookie = await mintCookie(keysFrom);
  const headers = { host: HOSTS.allow, cookie: `${COOKIE}=${cookie}` };
  for (const [mode, { gw }] of Object.entries(gws)) {
    const r = await probe(gw.dataPort, { path: '/', headers });
    if (r.status !== 200) throw new Error(`${mode}: probe got ${r.status}: ${r.body.slice(0, 200)}`);
  }
  log(`gateways: aggregate pid ${gws.aggregate.svc.pid}, all pid ${gws.all.svc.pid}; ${ROUNDS} rounds × ${DURATION} s per mode, ${o.connections} connections, ${tool.name}`);

  const phases = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of ['aggregate', 'all']) {
      const { gw, svc } = gws[mode];
      const url = `http://127.0.0.1:${gw.dataPort}/`;
      await runLoad(tool, { url, headers, connections: Number(o.connections), durationSec: 1 });
      await sleep(300);
      const rows0 = await decisionsMaxId(gw);
      const cpu0 = cpuSeconds(svc.pid);
      const samples = [];
      let scraping = true;
      const t0 = Date.now();
      const scraper = (async () => {
        while (scraping) {
          const m = await httpGetText(`http://127.0.0.1:${gw.adminPort}/metrics`).catch(() => null);
          if (m?.status === 200) samples.push([(Date.now() - t0) / 1000, metricValue(m.text, 'gatehouse_audit_queue_length') ?? NaN, metricValue(m.text, 'gatehouse_audit_dropped_records') ?? 0]);
          await sleep(250);
        }
      })();
      const load = await runLoad(tool, { url, headers, connections: Number(o.connections), durationSec: DURATION });
      const loadSec = (Date.now() - t0) / 1000;
      const cpu = cpuSeconds(svc.pid) - cpu0;
      const rowsAtEnd = await decisionsMaxId(gw);
      scraping = false;
      await scraper;
      // Drain: how long until the queue is empty again.
      let drainMs = null;
      const d0 = Date.now();
      while (Date.now() - d0 < 10_000) {
        const m = await httpGetText(`http://127.0.0.1:${gw.adminPort}/metrics`).catch(() => null);
        if (m && metricValue(m.text, 'gatehouse_audit_queue_length') === 0) {
          drainMs = Date.now() - d0;
          break;
        }
        await sleep(50);
      }
      const rows1 = await decisionsMaxId(gw);
      const q = samples.map((s) => s[1]).filter(Number.isFinite);
      const half = Math.floor(q.length / 2);
      const phase = {
        round: r + 1,
        mode,
        rps: load.rps,
        requests: load.requests,
        p50Ms: load.p50Ms,
        p99Ms: load.p99Ms,
        non2xx: load.non2xx,
        cpuUsPerRequest: (cpu * 1e6) / Math.max(1, load.requests),
        rowsDuringLoad: rowsAtEnd - rows0,
        rowsPerSecDuringLoad: (rowsAtEnd - rows0) / loadSec,
        rowsTotal: rows1 - rows0,
        rowsPerRequest: (rows1 - rows0) / Math.max(1, load.requests),
        queue: {
          max: q.length ? Math.max(...q) : null,
          mean: q.length ? q.reduce((a, b) => a + b, 0) / q.length : null,
          firstHalfMean: half ? q.slice(0, half).reduce((a, b) => a + b, 0) / half : null,
          secondHalfMean: q.length - half ? q.slice(half).reduce((a, b) => a + b, 0) / (q.length - half) : null,
          slopePerSec: slope(samples.filter((s) => Number.isFinite(s[1])).map((s) => [s[0], s[1]])),
          samples: samples.length,
        },
        dropped: samples.length ? samples[samples.length - 1][2] - samples[0][2] : null,
        drainMs,
      };
      phases.push(phase);
      log(
        `round ${r + 1} ${mode.padEnd(9)} ${fmt.n(load.rps)} req/s, ${fmt.n(phase.cpuUsPerRequest, 1)} µs CPU/req, ${fmt.n(phase.rowsPerSecDuringLoad)} decision rows/s, ` +
          `queue max ${fmt.n(phase.queue.max)} mean ${fmt.n(phase.queue.mean)} slope ${fmt.n(phase.queue.slopePerSec, 1)}/s, drained in ${drainMs ?? '>10000'} ms`,
      );
    }
  }

  const by = (mode, f) => phases.filter((p) => p.mode === mode).map(f);
  const auditCpu = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const a = phases.find((p) => p.round === r && p.mode === 'all');
    const g = phases.find((p) => p.round === r && p.mode === 'aggregate');
    auditCpu.push(a.cpuUsPerRequest - g.cpuUsPerRequest);
  }
  const allPhases = phases.filter((p) => p.mode === 'all');
  // "Does not grow": the queue's trend over the run stays within noise of zero — the mean of the
  // second half is no more than the first half's plus a small absolute margin (one flush period of
  // records at the measured rate), and nothing was dropped.
  const margin = (p) => Math.max(200, p.rowsPerSecDuringLoad * 0.1);
  const queueStable = allPhases.every((p) => p.queue.secondHalfMean !== null && p.queue.secondHalfMean <= p.queue.firstHalfMean + margin(p) && !p.dropped);
  const summary = {
    aggregate: { rps: median(by('aggregate', (p) => p.rps)), cpuUsPerRequest: median(by('aggregate', (p) => p.cpuUsPerRequest)), rowsPerSec: median(by('aggregate', (p) => p.rowsPerSecDuringLoad)) },
    all: {
      rps: median(by('all', (p) => p.rps)),
      cpuUsPerRequest: median(by('all', (p) => p.cpuUsPerRequest)),
      rowsPerSec: median(by('all', (p) => p.rowsPerSecDuringLoad)),
      rowsPerRequest: median(by('all', (p) => p.rowsPerRequest)),
      queueMax: Math.max(...by('all', (p) => p.queue.max ?? 0)),
    },
    auditCpuUsPerRequest: { median: median(auditCpu), range: minMax(auditCpu) },
    queueStable,
  };
  const result = {
    started: started.toISOString(),
    machine: { ...machineNotes(), loadTool: tool.name },
    settings: { durationSec: DURATION, rounds: ROUNDS, connections: Number(o.connections), store: PG ? 'PostgreSQL' : 'SQLite (default)', gatehouseLogLevel: o['log-level'] },
    summary,
    targets: {
      cpu: { goal: `≤ ${CPU_TARGET_US} µs/request`, measured: summary.auditCpuUsPerRequest.median, met: summary.auditCpuUsPerRequest.median <= CPU_TARGET_US },
      queue: { goal: 'queue does not grow, nothing dropped', met: queueStable },
    },
    phases,
  };

  const L = [];
  L.push(`### Audit recording — ${result.started}`);
  L.push('');
  L.push(`${result.machine.cpuModel}, ${result.machine.cores} cores, Node ${result.machine.node}; ${tool.name}, ${o.connections} connections, allow path with a cached ES256 cookie, ${PG ? 'PostgreSQL' : 'SQLite'} store; phases of ${DURATION} s alternate between two gateways (aggregate / all).`);
  L.push('');
  L.push('| round | record_allowed | req/s | p99 ms | CPU µs/req | decision rows/s (during load) | rows/request | queue max / mean / slope per s | dropped | drained in |');
  L.push('|---:|---|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const p of phases) {
    L.push(
      `| ${p.round} | ${p.mode} | ${fmt.n(p.rps)} | ${fmt.ms(p.p99Ms)} | ${fmt.n(p.cpuUsPerRequest, 1)} | ${fmt.n(p.rowsPerSecDuringLoad)} | ${fmt.n(p.rowsPerRequest, 2)} | ${fmt.n(p.queue.max)} / ${fmt.n(p.queue.mean)} / ${fmt.n(p.queue.slopePerSec, 1)} | ${fmt.n(p.dropped)} | ${p.drainMs === null ? '> 10 s' : `${p.drainMs} ms`} |`,
    );
  }
  L.push('');
  L.push('| target | goal | measured | met |');
  L.push('|---|---|---|---|');
  L.push(`| audit CPU per request (all − aggregate, same round) | ≤ ${CPU_TARGET_US} µs | ${fmt.n(summary.auditCpuUsPerRequest.median, 1)} µs (${fmt.n(summary.auditCpuUsPerRequest.range[0], 1)} – ${fmt.n(summary.auditCpuUsPerRequest.range[1], 1)}) | ${result.targets.cpu.met ? 'yes' : 'no'} |`);
  L.push(`| queue with record_allowed: all | does not grow, nothing dropped | max ${fmt.n(summary.all.queueMax)}; ${fmt.n(summary.all.rowsPerSec)} rows/s kept up with | ${queueStable ? 'yes' : 'no'} |`);
  L.push('');
  const md = L.join('\n');
  if (!o['no-write']) {
    const dir = join(BENCH_DIR, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `audit-${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(join(dir, 'audit-latest.md'), md);
  }
  process.stdout.write(md);
} finally {
  for (const s of services.reverse()) await s.stop('SIGTERM', 15_000);
  for (const d of dirs) cleanup(d);
  for (const schema of pgSchemas) await pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((err) => log(`could not drop schema ${schema}: ${err.message}`));
}

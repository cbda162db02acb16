// Forward-auth answers without nginx: wrk sends /.gatehouse/auth the sub-request nginx's recipe
// sends (bench/lib/gatehouse.mjs subrequestHeaders, cached allow with the ES256 cookie) straight to
// each process, rounds interleaved, and reports each process's CPU µs per answer:
//   - Gatehouse (this worktree's dist/), and with --baseline <dir> another build's dist/ (A/B);
//   - the floor: bench/fa-floor.mjs, a bare node:http answering the same 200 + identity headers.
// Without nginx in the loop the figure is the answering process's own cost (nginx's share is
// bench/run.js's nginx-fa case).
//   node bench/fa-cpu.mjs [--baseline ../main/dist] [--rounds 5] [--duration 4] [--connections 32]
import { benchArgs } from './lib/args.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { loadTool, runLoad } from './lib/load.mjs';
import { BENCH_DIR, CLK_TCK, fmt, machineNotes, median, minMax, startService } from './lib/proc.mjs';
import { COOKIE, cleanup, mintCookie, prepareGateway, startGatehouse, subrequestHeaders } from './lib/gatehouse.mjs';

const { values: o } = benchArgs(import.meta.url, {
  baseline: { type: 'string' },
  rounds: { type: 'string', default: '5' },
  duration: { type: 'string', default: '4' },
  connections: { type: 'string', default: '32' },
});
const tool = loadTool();
const services = [];
const dirs = [];
const log = (m) => process.stderr.write(`[fa-cpu] ${m}\n`);

try {
  const up = startService('upstream', process.execPath, [join(BENCH_DIR, 'upstream.mjs')], { readyLine: (j) => j.msg === 'listening' && j });
  services.push(up);
  const { port: upPort } = await up.ready;
  // 127.0.0.1 is the trusted proxy here: wrk asks as nginx would.
  const gw = await prepareGateway({ upstream: `http://127.0.0.1:${upPort}`, forwardAuthPeer: '127.0.0.1' });
  dirs.push(gw.dir);
  const cookie = `${COOKIE}=${await mintCookie(gw.keysFile)}`;
  const headers = subrequestHeaders(cookie);
  const targets = [];
  const gh = await startGatehouse(gw, { name: 'gatehouse' });
  services.push(gh);
  targets.push({ id: 'gatehouse', pid: gh.pid, port: gw.dataPort });
  if (o.baseline) {
    // Same keys, own port and store.
    const gwb = await prepareGateway({ upstream: `http://127.0.0.1:${upPort}`, forwardAuthPeer: '127.0.0.1', keysFrom: gw.keysFile });
    dirs.push(gwb.dir);
    const b = await startGatehouse(gwb, { name: 'baseline', dist: resolve(o.baseline) });
    services.push(b);
    targets.push({ id: 'baseline', pid: b.pid, port: gwb.dataPort });
  }
  const answer = await ask(gw.dataPort, headers);
  if (answer.status !== 200 || answer.headers['x-gatehouse-user-email'] !== 'bench@corp.example') throw new Error(`gatehouse answered ${answer.status}: ${JSON.stringify(answer.headers)}`);
  const file = join(gw.dir, 'answer.json');
  writeFileSync(file, JSON.stringify(answer.headers));
  const floor = startService('fa-floor', process.execPath, [join(BENCH_DIR, 'fa-floor.mjs'), '--headers', file], { readyLine: (j) => j.msg === 'listening' && j });
  services.push(floor);
  targets.push({ id: 'floor', pid: floor.pid, port: (await floor.ready).port });
  for (const t of targets) {
    const a = await ask(t.port, headers);
    if (a.status !== 200) throw new Error(`${t.id} answered ${a.status}`);
    t.headerBytes = a.rawHeaderBytes;
    t.rounds = [];
  }
  log(`machine load ${machineNotes().loadAverage.join(' / ')}; ${targets.map((t) => `${t.id} ${t.headerBytes} header bytes`).join(', ')}`);
  for (let r = 0; r < Number(o.rounds); r++) {
    for (const t of targets) {
      const url = `http://127.0.0.1:${t.port}/.gatehouse/auth`;
      await runLoad(tool, { url, headers, connections: Number(o.connections), durationSec: 1 });
      const c0 = userSys(t.pid);
      const x = await runLoad(tool, { url, headers, connections: Number(o.connections), durationSec: Number(o.duration) });
      const c1 = userSys(t.pid);
      if (x.non2xx || x.errors) throw new Error(`${t.id}: ${x.non2xx} non-2xx, ${x.errors} errors`);
      const us = (sec) => (sec * 1e6) / x.requests;
      const user = us(c1.user - c0.user);
      const sys = us(c1.sys - c0.sys);
      t.rounds.push({ rps: x.rps, cpuUs: user + sys, userUs: user, sysUs: sys });
      log(`round ${r + 1} ${t.id.padEnd(9)} ${fmt.n(x.rps).padStart(7)} req/s  ${fmt.n(user + sys, 1)} µs/req (user ${fmt.n(user, 1)}, system ${fmt.n(sys, 1)})`);
    }
  }
  const out = ['| process | CPU µs/answer (median, min–max) | user / system µs (median) | req/s (median) | × floor CPU |', '|---|---:|---:|---:|---:|'];
  const floorCpu = median(targets.find((t) => t.id === 'floor').rounds.map((x) => x.cpuUs));
  for (const t of targets) {
    const cpu = t.rounds.map((x) => x.cpuUs);
    const [lo, hi] = minMax(cpu);
    const split = `${fmt.n(median(t.rounds.map((x) => x.userUs)), 1)} / ${fmt.n(median(t.rounds.map((x) => x.sysUs)), 1)}`;
    out.push(`| ${t.id} | ${fmt.n(median(cpu), 1)} (${fmt.n(lo, 1)}–${fmt.n(hi, 1)}) | ${split} | ${fmt.n(median(t.rounds.map((x) => x.rps)))} | ${fmt.ratio(median(cpu) / floorCpu)} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
} finally {
  await Promise.all(services.map((s) => s.stop('SIGTERM', 8000)));
  for (const d of dirs) cleanup(d);
}

/** user and system CPU seconds of one process (all its threads), from /proc. */
function userSys(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK };
}

function ask(port, headers) {
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/.gatehouse/auth', headers, agent: false }, (r) => {
      r.resume();
      const rawHeaderBytes = r.rawHeaders.reduce((n, s) => n + s.length + 2, 0);
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, rawHeaderBytes }));
    });
    req.on('error', rej);
    req.end();
  });
}

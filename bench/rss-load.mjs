// RSS after a sustained cached-allow load (issue 18): a bare http-proxy-3 proxy and Gatehouse (the
// allow app, one session cookie, defaults otherwise) each take the same load for --duration seconds,
// one after the other, against the same upstream; their RSS (VmRSS) is read once the load has ended
// and after a further 2 s, with VmHWM (the peak). Target: Gatehouse ≤ 1.3× the bare proxy.
//
//   node bench/rss-load.mjs [--duration 60] [--connections 50] [--baseline <another build's dist/>]
//
// --baseline runs a second Gatehouse from another build (e.g. a copy of main's dist/) after this
// build's, with the same config, keys and load: a before/after in the same run.
import { join } from 'node:path';
import { benchArgs } from './lib/args.mjs';
import { loadTool, runLoad } from './lib/load.mjs';
import { BENCH_DIR, memory, sleep, startService, waitForPort } from './lib/proc.mjs';
import { COOKIE, HOSTS, cleanup, distReady, mintCookie, prepareGateway, startGatehouse } from './lib/gatehouse.mjs';

const { values: o } = benchArgs(import.meta.url, {
  duration: { type: 'string', default: '60' },
  connections: { type: 'string', default: '50' },
  baseline: { type: 'string' },
});
const durationSec = Number(o.duration);
const connections = Number(o.connections);
if (!distReady()) {
  console.error('bench: dist/cli.js not found — run npm run build first.');
  process.exit(1);
}
const tool = loadTool();
const services = [];
const node = async (name, args) => {
  const svc = startService(name, process.execPath, args, { readyLine: (j) => (j && j.msg === 'listening' ? j : undefined) });
  services.push(svc);
  svc.port = (await svc.ready).port;
  return svc;
};
const mib = (kib) => (kib / 1024).toFixed(1);
let dir;
try {
  const upstream = await node('upstream', [join(BENCH_DIR, 'upstream.mjs')]);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const bare = await node('bare-proxy', [join(BENCH_DIR, 'bare-proxy.mjs'), '--target', upstreamUrl, '--mode', 'native']);
  const gw = await prepareGateway({ upstream: upstreamUrl });
  dir = gw.dir;
  const gh = await startGatehouse(gw);
  services.push(gh);
  const cookie = `${COOKIE}=${await mintCookie(gw.keysFile)}`;
  const rows = [];
  const cases = [
    ['bare http-proxy-3 (native http.Agent)', async () => bare, `http://127.0.0.1:${bare.port}/`, {}],
    ['Gatehouse allow, cache hit (defaults)', async () => gh, `http://127.0.0.1:${gh.dataPort}/`, { host: HOSTS.allow, cookie }],
  ];
  if (o.baseline) {
    // The same data port: this build's gateway is stopped before the baseline starts.
    const start = async () => {
      await gh.stop('SIGTERM');
      const svc = startService('gatehouse-baseline', process.execPath, [join(o.baseline, 'cli.js'), 'start', '--config', gw.configFile], {});
      services.push(svc);
      await waitForPort(gw.dataPort, 30_000);
      await sleep(1000);
      return svc;
    };
    cases.push([`Gatehouse allow, cache hit (defaults), baseline ${o.baseline}`, start, `http://127.0.0.1:${gh.dataPort}/`, { host: HOSTS.allow, cookie }]);
  }
  for (const [label, getSvc, url, headers] of cases) {
    const svc = await getSvc();
    const before = memory(svc.pid);
    const r = await runLoad(tool, { url, headers, connections, durationSec });
    const after = memory(svc.pid);
    await sleep(2000);
    const settled = memory(svc.pid);
    rows.push({ label, rps: r.rps, non2xx: r.non2xx + r.errors, before: before.rssKiB, after: after.rssKiB, settled: settled.rssKiB, hwm: settled.hwmKiB });
  }
  console.log(`| process (${durationSec} s, ${connections} connections, ${tool.name}) | req/s | RSS before MiB | RSS at the end MiB | 2 s later MiB | peak (VmHWM) MiB | non-2xx + errors |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const x of rows) console.log(`| ${x.label} | ${Math.round(x.rps).toLocaleString('en')} | ${mib(x.before)} | ${mib(x.after)} | ${mib(x.settled)} | ${mib(x.hwm)} | ${x.non2xx} |`);
  const [b, ...gs] = rows;
  for (const g of gs) console.log(`\n${g.label} / bare proxy RSS at the end: ${(g.after / b.after).toFixed(2)}× (2 s later ${(g.settled / b.settled).toFixed(2)}×, peak ${(g.hwm / b.hwm).toFixed(2)}×); target ≤ 1.3×`);
} finally {
  for (const s of services.reverse()) await s.stop?.('SIGTERM');
  if (dir) cleanup(dir);
}

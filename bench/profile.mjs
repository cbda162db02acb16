// Profiles one case under load with `node --cpu-prof` and prints the heaviest functions by self time.
//   node bench/profile.mjs [--case gh-allow|gh-bypass|gh-bypass-cookie|gh-allow-noassert|gh-deny|gh-fa|cold-ES256|cold-RS256|cold-EdDSA|cold-HS256|bare|bare-fetch] [--duration 8]
//                          [--connections 50] [--top 30] [--keep]
// The gateway (or bare proxy) runs as its own process with --cpu-prof; the profile is written when
// it exits on SIGTERM. Load comes from wrk/autocannon (tokens-load.mjs for cold-*).
import { benchArgs } from './lib/args.mjs';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTool, runLoad } from './lib/load.mjs';
import { BENCH_DIR, REPO_DIR, runToEnd, sleep, startService, fmt } from './lib/proc.mjs';
import { randomBytes } from 'node:crypto';
import { AUDIENCE, COOKIE, HOSTS, HS_ISSUER, ISSUER, cleanup, issuerKeys, mintCookie, prepareGateway, startGatehouse, subrequestHeaders } from './lib/gatehouse.mjs';
import { mintTokens } from './lib/mint.mjs';
import { summarizeHeapProfile, summarizeProfile } from './lib/cpuprofile.mjs';

const { values: o } = benchArgs(import.meta.url, {
  case: { type: 'string', default: 'gh-allow' },
  duration: { type: 'string', default: '8' },
  connections: { type: 'string', default: '50' },
  top: { type: 'string', default: '30' },
  keep: { type: 'boolean', default: false },
  'log-level': { type: 'string', default: 'warn' },
  audit: { type: 'string' },
  heap: { type: 'boolean', default: false },
  alloc: { type: 'boolean', default: false },
});
const profDir = mkdtempSync(join(tmpdir(), 'gatehouse-prof-'));
// --heap: sampling allocation profile (where per-request garbage comes from) instead of CPU.
// --alloc: allocation sampling that keeps collected objects (the per-request garbage), via an
// in-process inspector session (bench/lib/alloc-sampler.mjs); gateway cases only.
process.env.ALLOC_PROFILE_OUT = join(profDir, 'alloc.heapprofile');
const nodeArgs = o.alloc
  ? [join(BENCH_DIR, 'lib', 'alloc-sampler.mjs')]
  : o.heap
    ? ['--heap-prof', `--heap-prof-dir=${profDir}`, '--heap-prof-interval=4096']
    : ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
const up = startService('upstream', process.execPath, [join(BENCH_DIR, 'upstream.mjs')], { readyLine: (j) => j.msg === 'listening' && j });
const { port: upPort } = await up.ready;
const upstream = `http://127.0.0.1:${upPort}`;
const tool = loadTool();
let target;
let gwDir = null;
try {
  if (o.case.startsWith('bare')) {
    const mode = o.case === 'bare-fetch' ? 'fetch' : 'native';
    const svc = startService('bare', process.execPath, [...nodeArgs, join(BENCH_DIR, 'bare-proxy.mjs'), '--target', upstream, '--mode', mode], { readyLine: (j) => j.msg === 'listening' && j });
    const j = await svc.ready;
    target = { svc, url: `http://127.0.0.1:${j.port}/`, headers: {} };
  } else {
      const cold = o.case.startsWith('cold-') ? o.case.slice(5) : null;
      const keys = cold && cold !== 'HS256' ? issuerKeys([cold]) : undefined;
      const hsSecret = cold === 'HS256' ? randomBytes(48).toString('base64url') : undefined;
      // gh-fa: nginx's forward-auth sub-request sent straight to /.gatehouse/auth (127.0.0.1 trusted).
      const fa = o.case === 'gh-fa';
      const gw = await prepareGateway({
        upstream,
        logLevel: o['log-level'],
        issuerKeys: keys,
        hsSecret,
        ...(fa ? { forwardAuthPeer: '127.0.0.1' } : {}),
        ...(o.audit ? { gateway: { audit: { record_allowed: o.audit } } } : {}),
      });
      gwDir = gw.dir;
      const svc = await startGatehouse(gw, { nodeArgs });
      const cookie = await mintCookie(gw.keysFile);
      // gh-bypass-cookie: the bypass app with the allow case's session cookie (what the cookie alone costs).
      const host = { 'gh-bypass': HOSTS.bypass, 'gh-bypass-cookie': HOSTS.bypass, 'gh-allow': HOSTS.allow, 'gh-allow-noassert': HOSTS.plain, 'gh-deny': HOSTS.deny }[o.case] ?? HOSTS.allow;
      if (fa) target = { svc, url: `http://127.0.0.1:${gw.dataPort}/.gatehouse/auth`, headers: subrequestHeaders(`${COOKIE}=${cookie}`) };
      else target = { svc, url: `http://127.0.0.1:${gw.dataPort}/`, headers: { host, ...(o.case === 'gh-bypass' || cold ? {} : { cookie: `${COOKIE}=${cookie}` }) }, cold, keys, gw, hsSecret };
    }
    process.stderr.write(`profiling ${o.case} for ${o.duration} s (pid ${target.svc.pid}) …\n`);
    let rps;
    if (target.cold === 'HS256') {
      const spec = JSON.stringify({ secret: target.hsSecret, iss: HS_ISSUER, aud: AUDIENCE });
      const r = await runToEnd(process.execPath, [join(BENCH_DIR, 'tokens-load.mjs'), '--url', target.url, '--host', HOSTS.allow, '--hs256', spec, '--duration', o.duration, '--concurrency', o.connections]);
      const j = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('TLJSON ')).slice(7));
      rps = j.rps;
    } else if (target.cold) {
      const k = target.keys[0];
      const tokens = await mintTokens({ alg: target.cold, privateJwk: k.privateJwk, kid: k.kid, claims: { iss: ISSUER, aud: AUDIENCE }, count: target.cold === 'RS256' ? 12_000 : 30_000 });
      const file = join(profDir, 'tokens.txt');
      writeFileSync(file, tokens.join('\n'));
      const r = await runToEnd(process.execPath, [join(BENCH_DIR, 'tokens-load.mjs'), '--url', target.url, '--host', HOSTS.allow, '--tokens', file, '--duration', o.duration, '--concurrency', o.connections]);
      const j = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('TLJSON ')).slice(7));
      rps = j.rps;
    } else {
      const r = await runLoad(tool, { url: target.url, headers: target.headers, connections: Number(o.connections), durationSec: Number(o.duration) });
      rps = r.rps;
    }
    if (o.alloc) {
      process.kill(target.svc.pid, 'SIGUSR2');
      for (let i = 0; i < 100 && !existsSync(process.env.ALLOC_PROFILE_OUT); i++) await sleep(100);
      await sleep(300);
    }
    await target.svc.stop('SIGTERM', 15_000);
    if (o.heap || o.alloc) {
      const hf = readdirSync(profDir).find((f) => f.endsWith('.heapprofile'));
      const label = o.alloc ? 'all allocations sampled, collected ones included' : 'live at exit';
      if (!hf) throw new Error(`no .heapprofile written in ${profDir}`);
      const h = summarizeHeapProfile(join(profDir, hf), Number(o.top), REPO_DIR);
      const out = [`### Allocation profile: ${o.case}, ${fmt.n(rps)} req/s, ${fmt.n(h.totalMiB, 1)} MiB sampled (${label})`, '', '| MiB | % | allocating function (file:line) |', '|---:|---:|---|'];
      for (const r of h.top) out.push(`| ${fmt.n(r.mib, 1)} | ${r.pct.toFixed(1)} | ${r.fn.replace(/\|/g, '\\|')} |`);
      process.stdout.write(out.join('\n') + '\n');
    } else {
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile written in ${profDir}`);
    const s = summarizeProfile(join(profDir, file), Number(o.top), REPO_DIR);
    const out = [];
    out.push(`### CPU profile: ${o.case}, ${fmt.n(rps)} req/s under profiling, ${fmt.n(s.totalMs)} ms sampled`);
    out.push('');
    out.push('| self ms | % | function (file:line) |');
    out.push('|---:|---:|---|');
    for (const r of s.top) out.push(`| ${fmt.n(r.ms)} | ${r.pct.toFixed(1)} | ${r.fn.replace(/\|/g, '\\|')} |`);
    out.push('');
    out.push('| total ms (inclusive) | % | gateway function (dist/…) |');
    out.push('|---:|---:|---|');
    for (const r of s.inclusive) out.push(`| ${fmt.n(r.ms)} | ${r.pct.toFixed(1)} | ${r.fn.replace(/\|/g, '\\|')} |`);
    out.push('');
    out.push('| self ms | % | where |');
    out.push('|---:|---:|---|');
    for (const r of s.byLocation) out.push(`| ${fmt.n(r.ms)} | ${r.pct.toFixed(1)} | ${r.where} |`);
    out.push('');
    if (o.keep) out.push(`profile kept: ${join(profDir, file)}`);
    process.stdout.write(out.join('\n') + '\n');
  }
} finally {
  await target?.svc?.stop('SIGKILL');
  await up.stop();
  if (gwDir) cleanup(gwDir);
  if (!o.keep) cleanup(profDir);
}

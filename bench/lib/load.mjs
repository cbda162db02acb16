// The load generators: wrk when installed, else autocannon in a child process. Both keep
// connections alive, run for a fixed duration and report the same shape.
import { join } from 'node:path';
import { BENCH_DIR, runToEnd, which } from './proc.mjs';

export function loadTool(prefer = process.env.BENCH_LOAD_TOOL) {
  if (prefer === 'autocannon') return { name: 'autocannon', version: autocannonVersion() };
  const wrk = which('wrk');
  if (wrk && prefer !== 'autocannon') return { name: 'wrk', path: wrk, version: 'wrk 4.x' };
  return { name: 'autocannon', version: autocannonVersion() };
}

function autocannonVersion() {
  return 'autocannon (node)';
}

/**
 * One fixed-duration keep-alive run against url with the given headers.
 * Resolves { requests, durationSec, rps, p50Ms, p99Ms, non2xx, errors }.
 */
export async function runLoad(tool, { url, headers = {}, connections = 50, durationSec = 5, threads = 1 }) {
  if (tool.name === 'wrk') {
    const args = [`-t${threads}`, `-c${connections}`, `-d${Math.max(1, Math.round(durationSec))}s`, '--timeout', '10s', '-s', join(BENCH_DIR, 'lib', 'wrk-json.lua')];
    // wrk adds its own Host header unless one spelled exactly "Host" is given: two Host headers
    // are a 400 at any careful proxy.
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k.toLowerCase() === 'host' ? 'Host' : k}: ${v}`);
    args.push(url);
    const r = await runToEnd(tool.path, args);
    const line = r.stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
    if (!line) throw new Error(`wrk failed (${r.code}): ${r.stderr || r.stdout}`);
    const j = JSON.parse(line.slice(8));
    const durationSec2 = j.duration_us / 1e6;
    const e = j.errors;
    return {
      requests: j.requests,
      durationSec: durationSec2,
      rps: j.requests / durationSec2,
      p50Ms: j.latency_us.p50 / 1000,
      p99Ms: j.latency_us.p99 / 1000,
      non2xx: e.status,
      errors: e.connect + e.read + e.write + e.timeout,
    };
  }
  const opts = { url, headers, connections, duration: durationSec, pipelining: 1, timeout: 10 };
  const r = await runToEnd(process.execPath, [join(BENCH_DIR, 'lib', 'autocannon-child.mjs'), JSON.stringify(opts)]);
  const line = r.stdout.split('\n').find((l) => l.startsWith('ACJSON '));
  if (!line) throw new Error(`autocannon failed (${r.code}): ${r.stderr || r.stdout}`);
  const j = JSON.parse(line.slice(7));
  return {
    requests: j.requests,
    durationSec: j.duration,
    rps: j.requests / j.duration,
    p50Ms: j.latency.p50,
    p99Ms: j.latency.p99,
    non2xx: j.non2xx,
    errors: j.errors + j.timeouts,
  };
}

// Process plumbing for the benchmarks: spawning services as separate processes, free ports,
// CPU time and memory read from /proc (Linux), machine notes, small statistics.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago on 127.0.0.1 (the kernel picked it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves when a TCP connect to host:port succeeds, or rejects after timeoutMs. */
export async function waitForPort(port, timeoutMs = 15_000, host = '127.0.0.1', isAlive = () => true) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, host);
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!isAlive()) throw new Error(`process exited before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Spawns a long-running service. Collects stdout/stderr (bounded), and resolves `ready` when
 * `readyLine(line)` returns a value for some stdout line (JSON-parsed when possible).
 */
export function startService(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_DIR, env: { ...process.env, ...(opts.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const svc = { name, child, pid: child.pid, stdout: '', stderr: '', exited: false, exitCode: null };
  const keep = (k, chunk) => {
    svc[k] += chunk.toString();
    if (svc[k].length > 64_000) svc[k] = svc[k].slice(-32_000);
  };
  let pendingLine = '';
  let resolveReady;
  let rejectReady;
  svc.ready = new Promise((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  child.stdout.on('data', (c) => {
    keep('stdout', c);
    if (!opts.readyLine) return;
    pendingLine += c.toString();
    let nl;
    while ((nl = pendingLine.indexOf('\n')) >= 0) {
      const line = pendingLine.slice(0, nl);
      pendingLine = pendingLine.slice(nl + 1);
      let parsed = line;
      try {
        parsed = JSON.parse(line);
      } catch {
        /* not JSON */
      }
      const v = opts.readyLine(parsed, line);
      if (v !== undefined && v !== null && v !== false) resolveReady(v);
    }
  });
  child.stderr.on('data', (c) => keep('stderr', c));
  child.on('exit', (code, signal) => {
    svc.exited = true;
    svc.exitCode = code ?? signal;
    rejectReady(new Error(`${name} exited (${svc.exitCode}) before it was ready:\n${svc.stderr.slice(-2000)}${svc.stdout.slice(-2000)}`));
  });
  svc.ready.catch(() => undefined);
  svc.stop = (signal = 'SIGTERM', graceMs = 5000) => stopProcess(child, signal, graceMs);
  return svc;
}

/** Sends `signal` to the child we started and waits for it to exit (SIGKILL after graceMs). */
export function stopProcess(child, signal = 'SIGTERM', graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      child.kill(signal);
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

/** Runs a command to completion; resolves {code, stdout, stderr}. */
export function runToEnd(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_DIR, env: { ...process.env, ...(opts.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => {
      stderr += c;
      if (opts.onStderr) opts.onStderr(c.toString());
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? signal, stdout, stderr, pid: child.pid }));
  });
}

// ---------------------------------------------------------------- /proc

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* default 100 */
}
export const CLK_TCK = clkTck;

function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may contain spaces and parentheses: split after the last ')'.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** Every descendant pid of `root` (cluster workers, nginx workers), root included. */
export function processTree(root) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(statFields(d)[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** user+system CPU seconds of a process (all its threads), optionally summed over its tree. */
export function cpuSeconds(pid, tree = false) {
  const pids = tree ? processTree(pid) : [pid];
  let ticks = 0;
  for (const p of pids) {
    try {
      const f = statFields(p);
      ticks += Number(f[11]) + Number(f[12]); // utime, stime
    } catch {
      /* exited */
    }
  }
  return ticks / CLK_TCK;
}

/** {rssKiB, hwmKiB} from /proc/<pid>/status. */
export function memory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number((text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) ?? [])[1] ?? 0);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

/** Samples RSS of `pid` every intervalMs; stop() returns {peakRssMiB, hwmMiB, samples}. */
export function sampleRss(pid, intervalMs = 100) {
  let peak = 0;
  let hwm = 0;
  const samples = [];
  const t0 = Date.now();
  const take = () => {
    try {
      const m = memory(pid);
      peak = Math.max(peak, m.rssKiB);
      hwm = Math.max(hwm, m.hwmKiB);
      samples.push([Date.now() - t0, m.rssKiB]);
    } catch {
      /* exited */
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peakRssMiB: peak / 1024, hwmMiB: hwm / 1024, samples };
    },
    current: () => peak / 1024,
  };
}

// ---------------------------------------------------------------- machine notes

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

export function machineNotes() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m) cpuModel = m[1].trim();
  } catch {
    /* not Linux */
  }
  let kernel = os.release();
  return {
    cpuModel,
    cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${kernel} ${os.arch()}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

// ---------------------------------------------------------------- stats

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function minMax(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return [null, null];
  return [Math.min(...v), Math.max(...v)];
}

export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

// ---------------------------------------------------------------- http probe

/** One request with full header control; resolves {status, headers, body}. */
export function probe(port, { method = 'GET', path = '/', host, headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: { ...(host ? { host } : {}), ...headers }, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('probe timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function httpGetText(url, timeoutMs = 5000) {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const r = await fetch(url, { signal: ac.signal });
    return { status: r.status, text: await r.text() };
  } finally {
    clearTimeout(t);
  }
}

/** Value of one Prometheus sample (first match of name{…} or name) from a /metrics text. */
export function metricValue(text, name) {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+|NaN)`, 'm');
  const m = text.match(re);
  return m ? Number(m[1]) : null;
}

export const fmt = {
  n: (x, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })),
  ms: (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1)),
  ratio: (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`),
};

// Gateway PROCESSES from dist/cli.js (built by `npm test`) for multi-instance tests: started in a
// directory of their own files, followed through their JSON log (a file in that directory), stopped
// with SIGTERM (SIGKILL after 5 s) at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Test } from 'tap';
import { eventually } from './pg.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export interface Instance {
  name: string;
  proc: ChildProcess;
  port: number;
  admin: string;
  /** Log lines (JSON) other than access lines, newest last (bounded). */
  lines: string[];
  /** From spawn to the "gatehouse listening" line, ms. */
  startMs: number;
}

let started = 0;

/**
 * Starts `gatehouse start` in `dir`; rejects if it is not listening within `startTimeoutMs` (default
 * 60 s). Its log goes to a file in `dir` that is read every 50 ms — not to a pipe: a gateway writes
 * its log synchronously, so a pipe the (busy) test process does not empty fast enough would stall
 * the gateway itself.
 */
export function startInstance(t: Test, name: string, dir: string, env: Record<string, string>, startTimeoutMs = 60_000): Promise<Instance> {
  const spawnedAt = performance.now();
  const logFile = join(dir, `${name}-${++started}.log`);
  const out = openSync(logFile, 'w');
  const proc = spawn(process.execPath, [CLI, 'start', '--config', 'gateway.yaml'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  t.teardown(() => stopInstance(proc));
  const lines: string[] = [];
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${startTimeoutMs / 1000} s: ${stderr}${lines.slice(-5).join('\n')}`)),
      startTimeoutMs,
    );
    const fd = openSync(logFile, 'r');
    let buf = '';
    let offset = 0;
    const chunk = Buffer.alloc(1 << 16);
    const read = (): void => {
      for (let n; (n = readSync(fd, chunk, 0, chunk.length, offset)) > 0; offset += n) buf += chunk.toString('utf8', 0, n);
      let i;
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.includes('"type":"access"')) continue; // one per request: not kept
        lines.push(line);
        if (lines.length > 5000) lines.splice(0, 1000);
        const msg = JSON.parse(line) as { msg: string; data?: string; admin?: string };
        if (msg.msg === 'gatehouse listening') {
          clearTimeout(timer);
          const startMs = Math.round(performance.now() - spawnedAt);
          resolveStart({ name, proc, port: Number(new URL(msg.data as string).port), admin: msg.admin as string, lines, startMs });
        }
      }
    };
    const tail = setInterval(read, 50);
    proc.once('exit', (code, signal) => {
      clearInterval(tail);
      read();
      closeSync(fd);
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening (${signal ?? `code ${code}`}): ${stderr}${lines.slice(-5).join('\n')}`));
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. Resolves with the exit code. */
export async function stopInstance(proc: ChildProcess, graceMs = 5000): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Waits (bounded) until the instance has logged `msg`. */
export const logged = (i: Instance, msg: string, ms = 10_000) =>
  eventually(() => i.lines.some((l) => (JSON.parse(l) as { msg: string }).msg === msg), ms, 20, `${i.name} logs "${msg}"`);

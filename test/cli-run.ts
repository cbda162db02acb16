// `node dist/cli.js …` as a real process, for the tests of the `gatehouse` command.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../dist/cli.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse ARGS` and resolves with its exit code and output (asynchronous: a gateway the command talks to may run in this process). */
export function gatehouse(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: opts.timeout ?? 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

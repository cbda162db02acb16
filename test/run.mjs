// `npm test`: tap, then one line for each need this machine lacks (PostgreSQL, Chromium, nginx …):
// why, how to get it and which test files did not run for it (test/helpers/machine.ts writes one
// note per skipped file; they are grouped here). tap's own output and exit code are passed
// through, so .ci/run still reads tap's "# { total: … }" summary.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// test/helpers/ts-cache.mjs keeps one transpiled file per version of each module: versions older
// than a week go (one still in use is transpiled again, once).
const cache = join(import.meta.dirname, '../node_modules/.cache/gatehouse-ts');
const weekAgo = Date.now() - 7 * 24 * 3600_000;
for (const name of existsSync(cache) ? readdirSync(cache) : []) {
  try {
    if (statSync(join(cache, name)).mtimeMs < weekAgo) rmSync(join(cache, name), { force: true });
  } catch {
    // another run removed it first
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
const missingFile = join(dir, 'missing.txt');
const local = join(import.meta.dirname, '../node_modules/.bin/tap');
const args = process.argv.slice(2);
const env = { ...process.env, GATEHOUSE_TEST_MISSING: missingFile };
if (args.includes('--disable-coverage')) {
  // Without coverage, tap's process recorder is kept out of the test processes (test/run-preload.mjs).
  const preload = `--import=${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'run-preload.mjs')).href)}`;
  Object.assign(env, { GATEHOUSE_TEST_NO_PROCESSINFO: '1', NODE_OPTIONS: `${preload} ${env.NODE_OPTIONS ?? ''}`.trim() });
}
const tap = spawn(existsSync(local) ? local : 'tap', args, { stdio: 'inherit', env });
const code = await new Promise((done) => tap.once('exit', (c, signal) => done(c ?? (signal ? 1 : 0))));
let notes = [];
try {
  notes = readFileSync(missingFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
} catch {
  // nothing was left out
}
rmSync(dir, { recursive: true, force: true });
const byNeed = new Map();
for (const n of notes) {
  const seen = byNeed.get(n.need) ?? { ...n, whats: [] };
  if (!seen.whats.includes(n.what)) seen.whats.push(n.what);
  byNeed.set(n.need, seen);
}
if (byNeed.size) {
  // Test files run in parallel and note their needs in any order: sort, so the summary reads the same every run.
  const needs = [...byNeed.values()].sort((a, b) => a.need.localeCompare(b.need));
  const lines = needs.map((n) => `- ${n.need}: ${n.why}; to run ${n.whats.sort().join(', ')}: ${n.how}.`);
  process.stdout.write(`\nnpm test could not run everything on this machine (${byNeed.size} missing):\n${lines.join('\n')}\n`);
}
process.exitCode = code;

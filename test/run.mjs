// `npm test`: tap, then one line for each thing this machine could not run and how to get it
// (test/helpers/machine.ts writes them). tap's own output and exit code are passed through, so
// .ci/run still reads tap's "# { total: … }" summary.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
const missingFile = join(dir, 'missing.txt');
const local = join(import.meta.dirname, '../node_modules/.bin/tap');
const tap = spawn(existsSync(local) ? local : 'tap', process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, GATEHOUSE_TEST_MISSING: missingFile } });
const code = await new Promise((done) => tap.once('exit', (c, signal) => done(c ?? (signal ? 1 : 0))));
let missing = [];
try {
  missing = [...new Set(readFileSync(missingFile, 'utf8').split('\n').filter(Boolean))];
} catch {
  // nothing was left out
}
rmSync(dir, { recursive: true, force: true });
if (missing.length) {
  process.stdout.write(`\nnpm test could not run everything on this machine (${missing.length}):\n${missing.map((l) => `- ${l}`).join('\n')}\n`);
}
process.exitCode = code;

// `npm test` on a machine without Chromium or PostgreSQL: test/run.mjs ends with one line per
// missing need (not one per skipped file), saying how to get it; with CI=true the same files fail.
// Three small files (test/fixtures/machine/) run through test/run.mjs with Chromium hidden
// (CHROMIUM_PATH) and PostgreSQL pointed at a closed port.
import t from 'tap';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from './helpers/proxies.js';

const ROOT = resolve(import.meta.dirname, '..');
const FILES = ['a', 'b'].map((x) => `test/fixtures/machine/browser-${x}.ts`).concat('test/fixtures/machine/database.ts');

async function npmTest(extra: Record<string, string>): Promise<{ code: number; out: string }> {
  // Without the outer tap's own variables, so the inner run is a run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP|_TAPJS|NODE_V8_COVERAGE)/.test(k))) as Record<string, string>;
  delete env.CI;
  Object.assign(env, { CHROMIUM_PATH: '/nonexistent/chromium', GATEHOUSE_TEST_POSTGRES: `postgres://postgres@127.0.0.1:${await freePort()}/test` }, extra);
  return new Promise((done) => {
    execFile(process.execPath, ['test/run.mjs', '--disable-coverage', '-R', 'tap', ...FILES], { cwd: ROOT, env, timeout: 240_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

// Both runs at once: each is a whole tap run (its own TypeScript loading), the slow part.
const [plain, ci] = [npmTest({}), npmTest({ CI: 'true' })];

t.test('without Chromium and PostgreSQL: the files are skipped, then one line per missing need', async (t) => {
  const { code, out } = await plain;
  t.equal(code, 0, 'skipping is not failing');
  const at = out.indexOf('npm test could not run everything on this machine (2 missing):');
  t.ok(at >= 0, 'the summary follows tap\'s');
  const summary = out.slice(at);
  const lines = summary.split('\n').filter((l) => l.startsWith('- '));
  t.equal(lines.length, 2, 'two needs, three files: two lines');
  t.match(lines[0], /^- Chromium: no Chromium at \/nonexistent\/chromium; to run browser file A, browser file B: apt-get install -y chromium .*or set CHROMIUM_PATH\.$/);
  t.match(lines[1], /^- PostgreSQL: PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/test is not reachable .*; to run database file: start PostgreSQL .*GATEHOUSE_TEST_POSTGRES/);
});

t.test('with CI=true nothing may be left out: each file fails, saying what it needed', async (t) => {
  const { code, out } = await ci;
  t.not(code, 0, 'npm test fails');
  t.match(out, /not ok \d+ - CI=true, and browser file A did not run: no Chromium at \/nonexistent\/chromium/);
  t.match(out, /not ok \d+ - CI=true, and database file did not run: PostgreSQL at /);
  t.notMatch(out, /could not run everything on this machine/, 'nothing was skipped');
});

// The docs run as written. Every fenced block marked ```sh runnable in README.md and docs/*.md is
// run by bash against the demo that `npm start` starts — the shipped gateway.example.yaml and
// config/, copied into a temp dir, on free ports — after the reader's first steps in a browser:
// signing in as the demo user and opening the app that refuses them. Each file's blocks run in
// one shell, in order (a function or variable defined in one block is there for the next), with
// `set -euo pipefail`; every one must exit 0.
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Browser } from './login/helpers/browser.js';
import { localSignIn } from './login/helpers/flows.js';
import { needsCommands } from './helpers/machine.js';

const ROOT = resolve(import.meta.dirname, '..');
t.setTimeout(300_000);

/** The runnable blocks of a Markdown file, in order. */
export function runnableBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh runnable\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const blocks = files.map((file) => ({ file, blocks: runnableBlocks(readFileSync(join(ROOT, file), 'utf8')) })).filter((f) => f.blocks.length);

t.test('the runnable examples find something to run', async (t) => {
  t.ok(blocks.some((b) => b.file === 'README.md'), 'README.md has runnable examples');
  t.ok(blocks.some((b) => b.file === 'docs/troubleshooting.md'), 'so does the troubleshooting walkthrough');
});

t.test('every runnable shell example runs against the demo', async (t) => {
  if (!needsCommands(t, 'the runnable docs examples (test/docs.test.ts)', 'curl', 'jq')) return;
  const [data, admin, upstream] = [await freePort(), await freePort(), await freePort()];
  const dir = t.testdir({});
  cpSync(join(ROOT, 'gateway.example.yaml'), join(dir, 'gateway.example.yaml'));
  cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
  // The demo's fixed ports, moved to free ones; the docs' commands get the same substitution.
  const ports = (text: string) => text.replace(/:8080\b/g, `:${data}`).replace(/:9901\b/g, `:${admin}`).replace(/:8081\b/g, `:${upstream}`);
  for (const f of ['gateway.example.yaml', ...readdirSync(join(dir, 'config/apps')).map((a) => `config/apps/${a}`)]) {
    writeFileSync(join(dir, f), ports(readFileSync(join(dir, f), 'utf8')));
  }
  const env = { ...process.env, GATEHOUSE_ADMIN_TOKEN: '', GATEHOUSE_ADMIN_URL: '' };
  const gw = spawn(process.execPath, ['dist/cli.js', 'start', '--config', 'gateway.example.yaml', '--example-upstream'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => gw.kill('SIGKILL'));
  let log = '';
  gw.stderr.on('data', (d) => (log += d));
  await new Promise<void>((done, fail) => {
    gw.stdout.on('data', (d) => {
      log += d;
      if (log.includes('"msg":"gatehouse listening"')) done();
    });
    gw.once('exit', (code) => fail(new Error(`the demo exited (${code}): ${log}`)));
  });
  t.match(log, /"msg":"generated an admin token \(mode 0600\): read it from that file"/, 'not a terminal: JSON logs, no token in them');
  t.notMatch(log, new RegExp(readFileSync(join(dir, 'data/admin-token'), 'utf8').trim()), 'the token itself is never logged');

  // The reader's first steps, in a browser: sign in as the demo user, then open ops (a 403).
  const browser = new Browser({ localhost: data, 'ops.localhost': data, 'public.localhost': data });
  const signedIn = await localSignIn(browser, 'http://localhost/.gatehouse/login?rd=http%3A%2F%2Flocalhost%2F', { email: 'demo@example.com', password: 'gatehouse-demo' });
  t.equal(signedIn.status, 303, 'the demo credentials sign in');
  const whoami = (await browser.navigate('http://localhost/')).at(-1);
  t.match(JSON.parse(whoami?.body ?? '{}'), { app: 'whoami', user: { email: 'demo@example.com' } }, 'whoami reports itself');
  const ops = (await browser.navigate('http://ops.localhost/')).at(-1);
  t.equal(ops?.status, 403, 'the handoff carries the sign-in to ops.localhost, which refuses the demo user');

  for (const { file, blocks: bs } of blocks) {
    const script = ['set -euo pipefail', ...bs.map((b, i) => `${ports(b)}\necho "::block ${i + 1} done"`)].join('\n');
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile('bash', ['-c', script], { cwd: dir, env, timeout: 120_000 }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    const finished = [...run.stdout.matchAll(/^::block (\d+) done$/gm)].length;
    t.equal(run.code, 0, `${file}: ${run.code === 0 ? `${bs.length} blocks` : `block ${finished + 1} of ${bs.length} failed:\n${bs[finished]}\n${run.stderr}`}`);
  }
});

// The `gatehouse` command as operators run it: a real process from dist/ (built by `npm test`).
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request, startUpstream } from '../helpers/stack.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const gatewayYaml = (extra = '') =>
  `listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\nsession:\n  cookie: gatehouse_session\n  keys: ./keys.json\n  secure_cookie: false\nstore:\n  sqlite: ./data/g.db\napps: ./apps\n${extra}`;

const appYaml = (upstream: string, name = 'app', host = 'app.test') =>
  `name: ${name}\nhosts: [${host}]\nupstream: ${upstream}\npolicies:\n  - name: open\n    action: bypass\n    include:\n      - everyone: true\n`;

t.test('check reports every problem with its location and exits 1', async (t) => {
  const dir = t.testdir({
    'gateway.yaml': gatewayYaml('workers: many\n'),
    apps: {
      'wiki.yaml': 'name: wiki\nhosts: [wiki.test]\nupstream: not a url\npolices: []\n',
      'ok.yaml': appYaml('http://127.0.0.1:9'),
    },
  });
  const r = await run(['check', '--config', 'gateway.yaml'], dir);
  t.equal(r.code, 1);
  t.match(r.stderr, /gateway\.yaml:\d+:\d+ .*workers/);
  t.match(r.stderr, /apps\/wiki\.yaml:4:1 unknown key "polices" \(did you mean "policies"\?\)/);
  t.match(r.stderr, /apps\/wiki\.yaml:3:\d+ .*upstream/);

  writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml());
  writeFileSync(join(dir, 'apps', 'wiki.yaml'), appYaml('http://127.0.0.1:9', 'wiki', 'wiki.test'));
  const ok = await run(['check', '--config', 'gateway.yaml'], dir);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /ok \(2 apps/);

  writeFileSync(join(dir, 'apps', 'wiki.yaml'), 'name: wiki\nhosts: [wiki.test]\nupstream: ${WIKI_UPSTREAM}\npolicies: []\n');
  const start = await run(['start', '--config', 'gateway.yaml'], dir);
  t.equal(start.code, 1, 'start refuses an invalid config');
  t.match(start.stderr, /WIKI_UPSTREAM/);
});

function startGateway(dir: string): Promise<{ proc: ChildProcess; port: number; admin: string; lines: string[] }> {
  return new Promise((resolveStart, reject) => {
    const proc = spawn(process.execPath, [CLI, 'start', '--config', 'gateway.yaml'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buf = '';
    proc.stdout?.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        const msg = JSON.parse(line) as { msg: string; data?: string; admin?: string };
        if (msg.msg === 'gatehouse listening') resolveStart({ proc, port: Number(new URL(msg.data as string).port), admin: msg.admin as string, lines });
      }
    });
    proc.on('exit', (code) => reject(new Error(`gateway exited early with ${code}`)));
  });
}

t.test('SIGHUP reloads; SIGTERM drains in-flight requests and exits 0', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('finished'), 700);
    res.end('ok');
  });
  const dir = t.testdir({ 'gateway.yaml': gatewayYaml(), apps: { 'app.yaml': appYaml(up.url) } });
  const gw = await startGateway(dir);
  t.teardown(() => gw.proc.kill('SIGKILL'));
  t.equal((await request(gw.port)).status, 200);

  writeFileSync(join(dir, 'apps', 'two.yaml'), appYaml(up.url, 'two', 'two.test'));
  gw.proc.kill('SIGHUP');
  let status = 0;
  for (let i = 0; i < 40 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await request(gw.port, { host: 'two.test' })).status;
  }
  t.equal(status, 200, 'the new app is served after SIGHUP');

  const inflight = request(gw.port, { path: '/slow' });
  await new Promise((r) => setTimeout(r, 100));
  const exited = new Promise<number | null>((r) => gw.proc.once('exit', (code) => r(code)));
  gw.proc.kill('SIGTERM');
  const reply = await inflight;
  t.equal(reply.status, 200, 'the in-flight request finished');
  t.equal(reply.body, 'finished');
  t.equal(await exited, 0, 'exit code 0');
  t.ok(gw.lines.some((l) => l.includes('gatehouse stopped')), 'logged the clean stop');
});

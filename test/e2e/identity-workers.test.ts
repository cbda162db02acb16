// Live identity changes with `workers: 2` on SQLite: a change made in one worker (SCIM is served by
// worker 1's admin listener) decides the next request on every worker, not only on the worker that
// made it — the primary relays it as it relays revocations. A real process from dist/.
import t from 'tap';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { startUpstream } from '../helpers/stack.js';
import { eventually } from '../helpers/pg.js';
import { Browser } from '../login/helpers/browser.js';
import { localSignIn } from '../login/helpers/flows.js';
import { usersYaml } from '../login/helpers/users.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const SCIM_TOKEN = 'scim-token-for-workers-0123456789';
const up = await startUpstream(t);
const dir = t.testdir({
  'gateway.yaml': stringify({
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    workers: 2,
    session: { cookie: 'gatehouse_session', keys: './keys.json', secure_cookie: false },
    store: { sqlite: './data/g.db' },
    apps: './apps',
    scim: { groups: 'replace' },
    identity_providers: [{ id: 'local', type: 'local_users', file: './users.yaml' }],
  }),
  'users.yaml': await usersYaml([{ email: 'ann@example.com', password: 'ann-password', groups: ['staff'] }]),
  apps: { 'app.yaml': stringify({ name: 'app', hosts: ['app.test'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] }) },
});

const proc = spawn(process.execPath, [CLI, 'start', '--config', 'gateway.yaml'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GATEHOUSE_SCIM_TOKEN: SCIM_TOKEN } });
t.teardown(() => {
  proc.kill('SIGKILL');
});
const pids = new Set<number>();
const { port, admin } = await new Promise<{ port: number; admin: string }>((done, fail) => {
  let buf = '';
  let found = 0;
  let adminUrl = '';
  proc.stdout?.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const msg = JSON.parse(buf.slice(0, i)) as { msg: string; pid: number; data?: string; admin?: string };
      buf = buf.slice(i + 1);
      if (msg.msg === 'request') pids.add(msg.pid);
      if (msg.msg !== 'gatehouse listening') continue;
      if (msg.admin) adminUrl = msg.admin;
      if (++found === 2) done({ port: Number(new URL(msg.data as string).port), admin: adminUrl });
    }
  });
  proc.on('exit', (code) => fail(new Error(`gatehouse exited with ${code}`)));
});

t.test('a SCIM change through worker 1 decides the next request on both workers', async (t) => {
  const b = new Browser({ 'app.test': port });
  t.equal((await localSignIn(b, 'http://app.test/.gatehouse/login?rd=%2F', { email: 'ann@example.com', password: 'ann-password' })).status, 303);
  // One connection per request: node:cluster hands them to both workers, which both cache the session.
  const statuses = async () => {
    const out: number[] = [];
    for (let i = 0; i < 6; i++) out.push((await b.request('http://app.test/')).status);
    return out;
  };
  t.same(await statuses(), [200, 200, 200, 200, 200, 200]);
  await eventually(() => pids.size === 2, 5000, 50, 'both workers answered');

  // SCIM provisions Ann in no group; with scim.groups: replace she loses staff.
  const res = await fetch(`${admin}/scim/v2/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ann@example.com', active: true }),
  });
  t.equal(res.status, 201);
  await eventually(async () => (await statuses()).every((s) => s === 403), 5000, 50, 'every worker decides on the new identity');
});

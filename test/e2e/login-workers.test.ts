// Sign-in with `workers: 2`: the steps of one sign-in land on different workers (node:cluster hands
// each new connection to the next worker, and the test client opens a connection per request), so
// flows, CSRF, handoff codes and failure counts must be shared. A real process from dist/ (built by
// `npm test`).
import t from 'tap';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { startUpstream } from '../helpers/stack.js';
import { Browser, parseForm, type Page } from '../login/helpers/browser.js';
import { localSignIn } from '../login/helpers/flows.js';
import { usersYaml } from '../login/helpers/users.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const up = await startUpstream(t);
const app = (name: string, host: string) => stringify({ name, hosts: [host], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] });
const dir = t.testdir({
  'gateway.yaml': stringify({
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    workers: 2,
    session: { cookie: 'gatehouse_session', keys: './keys.json', secure_cookie: false },
    store: { sqlite: './data/g.db' },
    apps: './apps',
    login: { host: 'app.test', lockout_threshold: 3 },
    identity_providers: [{ id: 'local', type: 'local_users', file: './users.yaml' }],
  }),
  'users.yaml': await usersYaml([
    { email: 'ann@example.com', password: 'ann-password', groups: ['staff'] },
    { email: 'bob@example.com', password: 'bob-password', groups: ['staff'] },
  ]),
  apps: { 'app.yaml': app('app', 'app.test'), 'shop.yaml': app('shop', 'shop.other.test') },
});

const proc = spawn(process.execPath, [CLI, 'start', '--config', 'gateway.yaml'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
t.teardown(() => {
  proc.kill('SIGKILL');
});
const workers = new Set<number>();
const port = await new Promise<number>((done, fail) => {
  let buf = '';
  let found = 0;
  proc.stdout?.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const msg = JSON.parse(buf.slice(0, i)) as { msg: string; pid: number; data?: string };
      buf = buf.slice(i + 1);
      if (msg.msg === 'signed in') workers.add(msg.pid);
      if (msg.msg === 'gatehouse listening' && ++found === 2) done(Number(new URL(msg.data as string).port));
    }
  });
  proc.on('exit', (code) => fail(new Error(`gatehouse exited with ${code}`)));
});
const hosts = { 'app.test': port, 'shop.other.test': port };

t.test('every sign-in works, whichever workers its steps reach', async (t) => {
  const results: number[] = [];
  for (let i = 0; i < 6; i++) {
    const b = new Browser(hosts);
    const post = await localSignIn(b, 'http://app.test/.gatehouse/login?rd=%2Fhome', { email: 'ann@example.com', password: 'ann-password' });
    results.push(post.status, (await b.request('http://app.test/home')).status);
  }
  t.same(results, Array(6).fill([303, 200]).flat(), 'form and POST on different workers: CSRF holds, the session is valid everywhere');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(workers.size, 2, 'both workers completed sign-ins');
});

t.test('the cross-domain handoff works across workers', async (t) => {
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const b = new Browser(hosts);
    const pages = await b.navigate('http://shop.other.test/cart');
    const form = pages[pages.length - 1] as Page;
    t.equal(form.url.host, 'app.test', 'the form is on the login host');
    const post = await localSignIn(b, form.url, { email: 'ann@example.com', password: 'ann-password' });
    const after = await b.navigate(post.location as URL);
    statuses.push((after[after.length - 1] as Page).status);
  }
  t.same(statuses, [200, 200, 200, 200]);
});

t.test('failures on both workers count towards one lockout', async (t) => {
  // One form, then one POST per connection: the POSTs alternate between the workers.
  const b = new Browser(hosts);
  const form = await b.request('http://app.test/.gatehouse/login');
  const { action, fields } = parseForm(form.body, form.url);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await b.request(action, { form: { ...fields, email: 'bob@example.com', password: `wrong-${i}` } })).status);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.same(statuses, [401, 401, 429, 429]);
});

// `workers: 2`: two processes share the data port. The steps of one sign-in land on different
// workers (node:cluster hands each new connection to the next worker, and the test client opens a
// connection per request), so flows, CSRF, handoff codes and failure counts must be shared; a
// change made in one worker (SCIM is served by worker 1's admin listener) decides the next request
// on every worker, not only on the worker that made it — the primary relays it as it relays
// revocations; a revocation through worker 1's admin API is enforced by both; /metrics counts both.
// One real process from dist/ (built by `npm test`) for all of it: a workers gateway is three node
// processes to start.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { ADMIN_TOKEN, request, startUpstream } from '../helpers/stack.js';
import { eventually } from '../helpers/pg.js';
import { Browser, parseForm, type Page } from '../login/helpers/browser.js';
import { localSignIn } from '../login/helpers/flows.js';
import { usersYaml } from '../login/helpers/users.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
const SCIM_TOKEN = 'scim-token-for-workers-0123456789';
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
    scim: { groups: 'replace' },
    identity_providers: [{ id: 'local', type: 'local_users', file: './users.yaml' }],
  }),
  'users.yaml': await usersYaml([
    { email: 'ann@example.com', password: 'ann-password', groups: ['staff'] },
    { email: 'bob@example.com', password: 'bob-password', groups: ['staff'] },
    // The live identity case's user: SCIM provisions only her (groups: replace applies to her alone).
    { email: 'cy@example.com', password: 'cy-password', groups: ['staff'] },
  ]),
  // count.test: only the revocation case's requests, so /metrics can be checked for exactly those.
  apps: { 'app.yaml': app('app', 'app.test'), 'shop.yaml': app('shop', 'shop.other.test'), 'count.yaml': app('count', 'count.test') },
});

const proc = spawn(process.execPath, [CLI, 'start', '--config', 'gateway.yaml'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GATEHOUSE_SCIM_TOKEN: SCIM_TOKEN, GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
t.teardown(() => {
  proc.kill('SIGKILL');
});
const workers = new Set<number>();
/** Workers that answered a request (log lines "request"), since the set was last cleared. */
const answeredBy = new Set<number>();
let admin = '';
const listening: Array<{ pid: number; data: string }> = [];
const port = await new Promise<number>((done, fail) => {
  let buf = '';
  let found = 0;
  proc.stdout?.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const msg = JSON.parse(buf.slice(0, i)) as { msg: string; pid: number; data?: string; admin?: string };
      buf = buf.slice(i + 1);
      if (msg.msg === 'signed in') workers.add(msg.pid);
      if (msg.msg === 'request') answeredBy.add(msg.pid);
      if (msg.msg !== 'gatehouse listening') continue;
      if (msg.admin) admin = msg.admin;
      listening.push({ pid: msg.pid, data: msg.data as string });
      if (++found === 2) done(Number(new URL(msg.data as string).port));
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

t.test('a SCIM change through worker 1 decides the next request on both workers', async (t) => {
  t.ok(admin, 'one of the workers serves the admin listener');
  const b = new Browser(hosts);
  t.equal((await localSignIn(b, 'http://app.test/.gatehouse/login?rd=%2F', { email: 'cy@example.com', password: 'cy-password' })).status, 303);
  // One connection per request: node:cluster hands them to both workers, which both cache the session.
  const statuses = async () => {
    const out: number[] = [];
    for (let i = 0; i < 6; i++) out.push((await b.request('http://app.test/')).status);
    return out;
  };
  answeredBy.clear();
  t.same(await statuses(), [200, 200, 200, 200, 200, 200]);
  await eventually(() => answeredBy.size === 2, 5000, 50, 'both workers answered');

  // SCIM provisions Cy in no group; with scim.groups: replace she loses staff.
  const res = await fetch(`${admin}/scim/v2/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'cy@example.com', active: true }),
  });
  t.equal(res.status, 201);
  await eventually(async () => (await statuses()).every((s) => s === 403), 5000, 50, 'every worker decides on the new identity');
});

// Last: it stops the gateway.
t.test('workers share the port and every revocation', async (t) => {
  t.equal(new Set(listening.map((l) => l.pid)).size, 2, 'two worker processes');
  t.equal(new Set(listening.map((l) => l.data)).size, 1, 'sharing one data port');
  t.ok(admin, 'one of them serves the admin listener');

  const keys = await loadOrCreateKeySet(join(dir, 'keys.json'));
  const alice = await mintSessionToken(keys, { sub: 'alice', email: 'alice@corp.example', groups: ['staff'], idp: 'local', amr: ['pwd'] }, 3_600_000);
  const cookie = { cookie: `gatehouse_session=${alice.token}` };
  for (let i = 0; i < 20; i++) t.equal((await request(port, { host: 'count.test', headers: cookie })).status, 200);

  // Worker 1 serves /metrics for both: the 20 requests to count.test (spread over the two) are all counted.
  const served = (text: string) => [...text.matchAll(/^gatehouse_requests_total\{[^}]*\} (\d+)/gm)]
    .filter((m) => /app="count"/.test(m[0]) && /status="200"/.test(m[0]))
    .reduce((n, m) => n + Number(m[1]), 0);
  const scrape = await eventually(async () => {
    const text = await (await fetch(`${admin}/metrics`)).text();
    return served(text) >= 20 ? text : null;
  }, 60_000, 50, "both workers' counts in /metrics");
  t.equal(served(scrape), 20, '/metrics counts the requests of every worker');
  t.match(scrape, /^gatehouse_audit_store_healthy 1$/m, 'a min-aggregated gauge stays 0/1');

  const del = await fetch(`${admin}/admin/sessions/${alice.jti}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(del.status, 200, 'revoked through worker 1');
  // Both workers must refuse: 20 consecutive requests (round-robin over both) all 401. How soon is
  // bench's business; the ceiling only stops a test that would otherwise never end.
  let refused = 0;
  await eventually(async () => {
    const r = await request(port, { host: 'count.test', headers: cookie });
    refused = r.status === 401 ? refused + 1 : 0;
    return refused >= 20;
  }, 60_000, 0, '20 consecutive refusals');
  t.equal(refused, 20, 'every worker refuses the revoked session');

  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'the primary exits 0 after its workers drain');
});

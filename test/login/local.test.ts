// Local users: the form, passwords, TOTP, lockouts (and their admin view), CSRF, the chooser and
// per-app provider lists, reloading the users file.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { TOTP, Secret } from 'otpauth';
import { request, startStack, startUpstream } from '../helpers/stack.js';
import { installLogin, loginModuleOf } from '../../src/login/install.js';
import { Browser, parseForm } from './helpers/browser.js';
import { localSignIn } from './helpers/flows.js';
import { usersYaml, type TestUser } from './helpers/users.js';

const TOTP_SECRET = new Secret({ size: 20 }).base32;
const users: TestUser[] = [
  { email: 'ann@example.com', password: 'correct horse battery', name: 'Ann', groups: ['staff'] },
  { email: 'tom@example.com', password: 'tom-password-1', groups: ['staff'], totp_secret: TOTP_SECRET },
  { email: 'bob@example.com', password: 'bob-password-1', groups: ['staff'] },
];
process.env.GATEHOUSE_ADMIN_TOKEN = 'admin-token-for-login-tests';
const upstream = await startUpstream(t);
const staffOnly = [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }];
const stack = await startStack(t, {
  apps: {
    app: { name: 'app', hosts: ['app.test'], upstream: upstream.url, policies: staffOnly },
    ops: { name: 'ops', hosts: ['ops.test'], upstream: upstream.url, policies: staffOnly, identity_providers: ['local'], session_duration: '1h' },
  },
  gateway: {
    identity_providers: [
      { id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' },
      { id: 'contractors', type: 'local_users', name: 'Contractors', file: './contractors.yaml' },
    ],
    login: { lockout_threshold: 3, lockout_window: '1m', lockout_duration: '5m' },
  },
  files: { 'users.yaml': await usersYaml(users), 'contractors.yaml': await usersYaml([]) },
  extend: async (g) => {
    await installLogin(g);
  },
});
const hosts = { 'app.test': stack.port, 'ops.test': stack.port };
const OPS_LOGIN = 'http://ops.test/.gatehouse/login?rd=http%3A%2F%2Fops.test%2Fdash';
const mod = () => loginModuleOf(stack.gw) as NonNullable<ReturnType<typeof loginModuleOf>>;
const noSession = (p: { headers: Record<string, unknown> }) => !/gatehouse_session=[^;]/.test(String(p.headers['set-cookie'] ?? ''));

t.test('right password: signed in, back to the page, upstream sees the user', async (t) => {
  const b = new Browser(hosts);
  const first = await b.request('http://ops.test/dash');
  t.equal(first.status, 302);
  const form = await b.request(first.location as URL);
  t.equal(form.status, 200, 'one provider offered: straight to its form');
  t.match(form.body, /<form method="post" action="\/\.gatehouse\/login">/);
  t.match(form.headers['content-security-policy'], /default-src 'none'/);
  t.equal(form.headers['cache-control'], 'no-store');
  t.equal(form.headers['x-frame-options'], 'DENY');
  t.match(String(form.headers['set-cookie']), /gatehouse_csrf=.*HttpOnly/i);

  const { action, fields } = parseForm(form.body, form.url);
  const post = await b.request(action, { form: { ...fields, email: 'Ann@Example.com', password: 'correct horse battery' } });
  t.equal(post.status, 303);
  t.equal(post.location?.href, 'http://ops.test/dash');
  t.match(String(post.headers['set-cookie']), /gatehouse_session=[^;]+;.*Max-Age=90000/i, "the app's session_duration, plus a day to say 'expired'");
  const page = await b.request(post.location as URL);
  t.equal(page.status, 200);
  t.equal((JSON.parse(page.body) as { headers: Record<string, string> }).headers['x-gatehouse-user-email'], 'ann@example.com');

  const id = JSON.parse((await b.request('http://ops.test/.gatehouse/identity?format=json')).body) as Record<string, unknown>;
  t.same(id.amr, ['pwd']);
  t.equal(id.idp, 'local');
  t.equal(id.name, 'Ann');
  const rec = await stack.gw.store.getSession(id.session_id as string);
  t.equal(rec?.email, 'ann@example.com', 'recorded at sign-in');
  t.equal(rec?.network.loginUserAgent, 'gatehouse-test-browser/1.0');
  t.equal(rec?.network.loginIp, '127.0.0.1');
});

t.test('the session minted at sign-in is in the store before its cookie is sent (issue 17 finding 8)', async (t) => {
  const b = new Browser(hosts);
  const form = await b.request(OPS_LOGIN);
  const { action, fields } = parseForm(form.body, form.url);
  const post = await b.request(action, { form: { ...fields, email: 'bob@example.com', password: 'bob-password-1' } });
  t.equal(post.status, 303);
  // Read at once, straight from the store: no writer flush in between (a crash here loses nothing).
  const page = await stack.gw.store.listSessions({ email: 'bob@example.com', limit: 10 });
  t.equal(page.items.length, 1, 'committed before the response');
});

t.test('wrong password and unknown user: the same refusal, no session', async (t) => {
  const wrong = await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'ann@example.com', password: 'nope' });
  const unknown = await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'nobody@example.com', password: 'nope' });
  for (const r of [wrong, unknown]) {
    t.equal(r.status, 401);
    t.match(r.body, /Incorrect email or password/);
    t.ok(noSession(r));
  }
  t.match(unknown.body, /value="nobody@example\.com"/, 'the email is kept in the form, escaped');
});

t.test('TOTP: required when the user has a secret, asked for after the password, accepted once', async (t) => {
  const totp = new TOTP({ secret: Secret.fromBase32(TOTP_SECRET) });
  const form = (await new Browser(hosts).request(OPS_LOGIN)).body;
  t.notMatch(form, /name="totp"/, 'the first step has no one-time-code field');

  const b = new Browser(hosts);
  const step1 = await localSignIn(b, OPS_LOGIN, { email: 'tom@example.com', password: 'tom-password-1' });
  t.equal(step1.status, 200, 'the right password leads to the code step');
  t.ok(noSession(step1), 'the password alone is not enough');
  t.match(step1.body, /name="totp"/);
  t.notMatch(step1.body, /name="password"/, 'the password is not asked for (or carried) again');
  const step2 = parseForm(step1.body, step1.url);
  t.match(step2.fields, { email: 'tom@example.com', ticket: /^\d+\.[\w-]{43}$/ });

  const wrong = await b.request(step2.action, { form: { ...step2.fields, totp: '000000' === totp.generate() ? '111111' : '000000' } });
  t.equal(wrong.status, 401, 'a wrong code is refused');
  t.ok(noSession(wrong));
  t.match(wrong.body, /That code is not right/);
  t.notOk((await mod().throttle.lockouts()).some((l) => l.key === 'tom@example.com'), 'one failure does not lock');

  const forged = await b.request(step2.action, { form: { ...step2.fields, ticket: `${Date.now() + 60_000}.${'A'.repeat(43)}`, totp: totp.generate() } });
  t.equal(forged.status, 403, 'a forged ticket does not stand for the password');
  t.ok(noSession(forged));
  const otherBrowser = await new Browser(hosts).request(step2.action, { form: { ...step2.fields, totp: totp.generate() } });
  t.equal(otherBrowser.status, 403, 'nor does a ticket from another browser');

  const code = totp.generate();
  const ok = await b.request(step2.action, { form: { ...step2.fields, totp: code } });
  t.equal(ok.status, 303, 'the code completes the sign-in');
  const id = JSON.parse((await b.request('http://ops.test/.gatehouse/identity?format=json')).body) as Record<string, unknown>;
  t.same(id.amr, ['pwd', 'mfa']);
  const replay = await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'tom@example.com', password: 'tom-password-1', totp: code });
  t.equal(replay.status, 401, 'a used code cannot be replayed (all three fields at once still work for scripts)');
  await mod().throttle.unlock('user', 'tom@example.com');
});

t.test('lockout after repeated failures, visible to admins, lifted by an admin', async (t) => {
  const mod = loginModuleOf(stack.gw);
  t.ok(mod);
  const attempts = [];
  for (let i = 0; i < 3; i++) attempts.push(await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'bob@example.com', password: `guess-${i}` }));
  t.same(attempts.map((a) => a.status), [401, 401, 429], 'the third failure locks');
  t.equal(attempts[2]?.headers['retry-after'], '300');
  const right = await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'bob@example.com', password: 'bob-password-1' });
  t.equal(right.status, 429, 'even the right password is refused while locked');
  t.match(right.body, /Too many failed sign-in attempts/);

  const locks = (await mod?.throttle.lockouts()) ?? [];
  t.match(locks, [{ key: 'bob@example.com', kind: 'user', failures: 3 }]);
  const auth = { authorization: `Bearer ${process.env.GATEHOUSE_ADMIN_TOKEN}` };
  const port = Number(new URL(stack.adminUrl).port);
  const listed = await request(port, { path: '/admin/login/lockouts', headers: auth });
  t.equal(listed.status, 200);
  t.match(listed.json(), { lockouts: [{ key: 'bob@example.com', kind: 'user' }] });
  t.equal((await request(port, { path: '/admin/login/lockouts' })).status, 401, 'admins only');
  const lifted = await request(port, { method: 'DELETE', path: '/admin/login/lockouts/user/bob%40example.com', headers: auth });
  t.equal(lifted.status, 200);
  const after = await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'bob@example.com', password: 'bob-password-1' });
  t.equal(after.status, 303, 'unlocked');
});

t.test('CSRF: a missing, foreign or cross-origin form is refused', async (t) => {
  const b = new Browser(hosts);
  const form = await b.request(OPS_LOGIN);
  const { action, fields } = parseForm(form.body, form.url);
  const creds = { email: 'ann@example.com', password: 'correct horse battery' };
  const { csrf: _csrf, ...withoutToken } = fields;
  const missing = await b.request(action, { form: { ...withoutToken, ...creds } });
  t.equal(missing.status, 403);
  t.ok(noSession(missing));
  const other = new Browser(hosts);
  const foreign = await other.request(action, { form: { ...fields, ...creds } });
  t.equal(foreign.status, 403, "a token without this browser's cookie");
  const crossSite = await b.request(action, { form: { ...fields, ...creds }, headers: { origin: 'https://evil.example' } });
  t.equal(crossSite.status, 403, 'Origin of another site');
  const fine = await b.request(action, { form: { ...fields, ...creds } });
  t.equal(fine.status, 303, 'the same form from the same browser works');
});

t.test('several providers: a chooser; an app listing one goes straight to it', async (t) => {
  const b = new Browser(hosts);
  const chooser = await b.request('http://app.test/.gatehouse/login?rd=%2Fx');
  t.equal(chooser.status, 200);
  t.match(chooser.body, /Team accounts/);
  t.match(chooser.body, /Contractors/);
  t.match(chooser.body, /href="\/\.gatehouse\/login\?rd=http%3A%2F%2Fapp\.test%2Fx&amp;idp=contractors"/);
  const direct = await b.request(OPS_LOGIN);
  t.notMatch(direct.body, /Contractors/, 'ops lists only local');
  const refused = await b.request('http://ops.test/.gatehouse/login?rd=%2F&idp=contractors');
  t.match(refused.body, /Team accounts/, 'a provider the app does not list is not offered');
});

t.test('the users file reloads on change', async (t) => {
  const extra = [...users, { email: 'new@example.com', password: 'new-user-password', groups: ['staff'] }];
  await writeFile(join(stack.dir, 'users.yaml'), await usersYaml(extra));
  const r = await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'new@example.com', password: 'new-user-password' });
  t.equal(r.status, 303);
  await writeFile(join(stack.dir, 'users.yaml'), 'users: [ {email: broken');
  const still = await localSignIn(new Browser(hosts), OPS_LOGIN, { email: 'new@example.com', password: 'new-user-password' });
  t.equal(still.status, 303, 'a broken edit keeps the last good users');
});

t.test('logout clears the cookie and refuses the old token; no IdP: the signed-out page', async (t) => {
  const b = new Browser(hosts);
  await localSignIn(b, OPS_LOGIN, { email: 'ann@example.com', password: 'correct horse battery' });
  const token = b.cookie('gatehouse_session', 'ops.test') as string;
  t.equal((await b.request('http://ops.test/dash')).status, 200);
  const out = await b.request('http://ops.test/.gatehouse/logout', { method: 'POST' });
  t.equal(out.status, 200);
  t.match(out.body, /signed out/);
  const thief = new Browser(hosts);
  thief.setCookie('gatehouse_session', token, 'ops.test');
  t.equal((await thief.request('http://ops.test/dash', { headers: { accept: 'application/json' } })).status, 401);
});

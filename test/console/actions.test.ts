// The admin actions audit against a real gateway: a revocation through the admin API and one
// through the console (signed in with another admin token) both show up, with the right actor,
// door, reason and request id; log out everywhere, everyone must sign in again and a lockout lift
// are recorded too; GET /admin/actions filters and pages, and refuses an unknown kind naming it; the
// console's Actions page lists them.
import t from 'tap';
import { startStack, startUpstream, request, ADMIN_TOKEN } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { installAdminApi } from '../../src/admin/install.js';
import { installConsole } from '../../src/console/install.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { usersYaml } from '../login/helpers/users.js';
import { Browser } from '../login/helpers/browser.js';
import { localSignIn } from '../login/helpers/flows.js';

t.setTimeout(120_000);

const HELPDESK_TOKEN = 'helpdesk-token-0123456789abcdefghij';
type Json = Record<string, unknown>;

t.test('revocations, logouts, app cut-offs and lockout lifts are recorded and listed', async (t) => {
  const up = await startUpstream(t);
  const wiki = { name: 'wiki', hosts: ['wiki.test'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] };
  const s = await startStack(t, {
    apps: { wiki },
    gateway: {
      admin: { listen: '127.0.0.1:0', tokens_file: './admin-tokens' },
      identity_providers: [{ id: 'local', type: 'local_users', name: 'Team', file: './users.yaml' }],
      login: { lockout_threshold: 2, lockout_window: '1m', lockout_duration: '5m' },
    },
    files: { 'admin-tokens': `helpdesk: ${HELPDESK_TOKEN}\n`, 'users.yaml': await usersYaml([{ email: 'uma@corp.example', password: 'uma-password-1', groups: ['staff'] }]) },
    extend: async (g) => {
      await installLogin(g);
      installAdminApi(g);
      installConsole(g);
    },
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as Json };
  };
  const signIn = async (sub: string, email: string) => {
    const m = await mintSessionToken(s.gw.services.keys, { sub, email, groups: ['staff'], idp: 'local', amr: ['pwd'] }, 3_600_000);
    const r = await request(s.port, { host: 'wiki.test', path: '/', headers: { cookie: `gatehouse_session=${m.token}` } });
    t.equal(r.status, 200, `${email} uses the wiki`);
    return m;
  };
  const ada = await signIn('u-ada', 'ada@corp.example');
  const bob = await signIn('u-bob', 'bob@corp.example');
  await signIn('u-cy', 'cy@corp.example');

  // 1. Through the admin API (the env token).
  const viaApi = await api('DELETE', `/admin/sessions/${ada.jti}`, { reason: 'lost laptop' });
  t.equal(viaApi.status, 200);
  t.match(viaApi.requestId, /^[0-9a-f-]{36}$/, 'the admin API answers with its request id');

  // 2. Through the console, signed in with the helpdesk token: the form's CSRF token, a reason.
  const signedIn = await fetch(`${s.adminUrl}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: HELPDESK_TOKEN, next: '/console/sessions' }),
  });
  t.equal(signedIn.status, 303);
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const page = await (await fetch(`${s.adminUrl}/console/sessions/${bob.jti}`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  t.ok(csrf, 'the session page carries a revoke form with a CSRF token');
  const posted = await fetch(`${s.adminUrl}/console/sessions/${bob.jti}/revoke`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, reason: 'left the company' }),
  });
  t.equal(posted.status, 303, 'revoked through the console');
  const bobNext = await request(s.port, { host: 'wiki.test', path: '/', headers: { cookie: `gatehouse_session=${bob.token}`, accept: 'application/json' } });
  t.equal(bobNext.status, 401, "bob's next request is refused");

  // 3. The others, through the API.
  t.equal((await api('DELETE', '/admin/users/cy%40corp.example/sessions', { reason: 'offboarding' })).status, 200);
  t.equal((await api('POST', '/admin/apps/wiki/revoke', { reason: 'rotated the upstream secret' })).status, 200);
  const login = 'http://wiki.test/.gatehouse/login?rd=http%3A%2F%2Fwiki.test%2F';
  for (let i = 0; i < 2; i++) await localSignIn(new Browser({ 'wiki.test': s.port }), login, { email: 'uma@corp.example', password: 'wrong' });
  t.equal((await api('DELETE', '/admin/login/lockouts/user/uma%40corp.example?reason=verified%20by%20phone')).status, 200);

  const all = await api('GET', '/admin/actions');
  t.equal(all.status, 200);
  const actions = all.body.actions as Json[];
  t.same(
    actions.map((a) => [a.action, a.target]),
    [
      ['lockout.lift', 'user:uma@corp.example'],
      ['app.revoke', 'wiki'],
      ['user.logout', 'cy@corp.example'],
      ['session.revoke', bob.jti],
      ['session.revoke', ada.jti],
    ],
    'every action, newest first',
  );
  t.match(actions[4], { actor: 'admin:env', via: 'api', reason: 'lost laptop', request_id: viaApi.requestId, time: String }, 'the API revocation: the env token, its request id');
  t.match(actions[3], { actor: 'admin:helpdesk', via: 'console', reason: 'left the company', request_id: /^[0-9a-f-]{36}$/ }, 'the console revocation: the helpdesk token');
  t.match(actions[2], { actor: 'admin:env', reason: 'offboarding', detail: { revoked: 1 } });
  t.match(actions[1], { reason: 'rotated the upstream secret', detail: { revoked_before: String } });
  t.match(actions[0], { reason: 'verified by phone' });

  t.same(((await api('GET', '/admin/actions?actor=admin%3Ahelpdesk')).body.actions as Json[]).map((a) => a.target), [bob.jti], 'by actor');
  t.same(((await api('GET', '/admin/actions?action=session.revoke&limit=1')).body.actions as Json[]).map((a) => a.target), [bob.jti], 'by kind, one page');
  const paged = await api('GET', '/admin/actions?action=session.revoke&limit=1');
  const older = await api('GET', `/admin/actions?action=session.revoke&limit=1&cursor=${paged.body.next_cursor as string}`);
  t.same((older.body.actions as Json[]).map((a) => a.target), [ada.jti], 'the next page');
  t.equal(older.body.next_cursor, null);
  t.same(((await api('GET', `/admin/actions?target=wiki`)).body.actions as Json[]).map((a) => a.action), ['app.revoke'], 'by target');
  const bad = await api('GET', '/admin/actions?action=delete');
  t.equal(bad.status, 400);
  t.match(bad.body, { param: 'action', error: /action must be one of session\.revoke/ });
  t.match((await api('GET', '/admin/actions?who=x')).body, { param: 'who' }, 'an unknown parameter is refused, named');

  // The console's Actions page lists them, with who did what.
  const html = await (await fetch(`${s.adminUrl}/console/actions`, { headers: { cookie } })).text();
  t.match(html, /admin:helpdesk/);
  t.match(html, /left the company/);
  t.match(html, /Sign-in lockout lifted/);
  const filtered = await (await fetch(`${s.adminUrl}/console/actions?actor=admin%3Aenv&action=app.revoke`, { headers: { cookie } })).text();
  t.match(filtered, /rotated the upstream secret/);
  t.notMatch(filtered, /left the company/, 'the page filters');
});

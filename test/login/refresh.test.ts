// Identity refresh against a real provider (oidc-provider): with `refresh` on, a session in use is
// refreshed in the background (refresh token + userinfo). A group removed in the provider's
// account store → the next request after a refresh decides on the new groups; a disabled account
// → the session is revoked (idp_refresh_failed); the IdP stopped → 401 identity_stale once
// refresh_max_stale has passed. The refresh token is never in clear in the store or the admin API.
import t, { type Test } from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { installAdminApi } from '../../src/admin/install.js';
import type { Gateway } from '../../src/gateway.js';
import { installLogin } from '../../src/login/install.js';
import { adminFetch, request, startStack, startUpstream, type Stack } from '../helpers/stack.js';
import { eventually } from '../helpers/pg.js';
import { Browser } from './helpers/browser.js';
import { startOidc, walkIdp } from './helpers/flows.js';
import { startIdp, type Idp, type IdpAccount } from './helpers/idp.js';

interface Setup {
  stack: Stack;
  idp: Idp;
  accounts: Record<string, IdpAccount>;
}

async function setUp(t: Test, provider: Record<string, unknown>): Promise<Setup> {
  const upstream = await startUpstream(t);
  const accounts: Record<string, IdpAccount> = {
    ann: { email: 'ann@corp.example', email_verified: true, name: 'Ann', groups: ['staff', 'wiki-editors'] },
    bob: { email: 'bob@corp.example', email_verified: true, groups: ['staff', 'wiki-editors'] },
  };
  const idp = await startIdp(t, { redirectUris: ['http://wiki.test/.gatehouse/callback'], accounts, refreshTokens: true });
  const stack = await startStack(t, {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: upstream.url, policies: [{ name: 'editors', action: 'allow', include: [{ group: 'wiki-editors' }] }] } },
    gateway: {
      identity_providers: [
        { id: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'], ...provider },
      ],
    },
    extend: async (g: Gateway) => {
      await installLogin(g);
      installAdminApi(g);
    },
  });
  return { stack, idp, accounts };
}

async function signIn(s: Setup, login: string): Promise<string> {
  const br = new Browser({ 'wiki.test': s.stack.port });
  const cb = await walkIdp(br, await startOidc(br, 'http://wiki.test/'), login);
  await br.request(cb);
  return br.cookie('gatehouse_session', 'wiki.test') as string;
}

const get = (s: Setup, token: string) => request(s.stack.port, { host: 'wiki.test', headers: { cookie: `gatehouse_session=${token}` } });

/** Uses the session until `done` says the answer is the expected one (refresh runs in the background). */
async function useUntil(s: Setup, token: string, done: (status: number, body: Record<string, unknown>) => boolean, what: string): Promise<void> {
  await eventually(
    async () => {
      const res = await get(s, token);
      return done(res.status, res.json());
    },
    30_000,
    100,
    what,
  );
}

t.test('a group removed at the IdP: the next request after a refresh decides on the new groups', async (t) => {
  const s = await setUp(t, { refresh: '1s' });
  const token = await signIn(s, 'ann');
  t.equal((await get(s, token)).status, 200, 'an editor');
  t.ok(s.idp.refreshTokens.length > 0, 'the IdP issued a refresh token (offline_access was asked for)');

  (s.accounts.ann as IdpAccount).groups = ['staff'];
  await useUntil(s, token, (status) => status === 403, 'denied on the refreshed groups');
  const denied = await get(s, token);
  t.equal(denied.status, 403, 'denied: no policy allows Ann without wiki-editors');

  const user = (await (await adminFetch(s.stack, '/admin/users/ann@corp.example')).json()) as { history: Array<Record<string, unknown>>; sessions: Array<{ id: string }> };
  t.match(
    user.history.find((h) => h.source === 'refresh'),
    { source: 'refresh', version: 1, groups: { added: [], removed: ['wiki-editors'] } },
    'recorded in the identity history with its source',
  );
  const sessionId = user.sessions[0]?.id as string;
  const session = await adminFetch(s.stack, `/admin/sessions/${sessionId}`);
  const text = await session.text();
  t.match(JSON.parse(text), { identity_version: 1 });

  await s.stack.gw.writer.flush();
  const clear = s.idp.refreshTokens;
  const dataDir = join(s.stack.dir, 'data');
  const files = readdirSync(dataDir).map((f) => readFileSync(join(dataDir, f)).toString('latin1'));
  for (const rt of clear) {
    t.notOk(files.some((f) => f.includes(rt)), 'no refresh token in clear in the database files');
    t.notOk(text.includes(rt) || JSON.stringify(user).includes(rt), 'nor in the admin API');
  }
  const metrics = await (await adminFetch(s.stack, '/metrics')).text();
  t.match(metrics, /gatehouse_identity_refreshes_total\{idp="corp",outcome="changed"\} [1-9]/);
});

t.test('a disabled account: the refresh is refused and the session revoked (idp_refresh_failed)', async (t) => {
  const s = await setUp(t, { refresh: '1s' });
  const token = await signIn(s, 'bob');
  t.equal((await get(s, token)).status, 200);
  delete s.accounts.bob;
  await useUntil(s, token, (status, body) => status === 401 && body.reason === 'revoked', 'refused once the refresh failed');
  const user = (await (await adminFetch(s.stack, '/admin/users/bob@corp.example')).json()) as { history: Array<Record<string, unknown>>; sessions: Array<Record<string, unknown>> };
  t.match(user.history[0], { source: 'refresh', revoked: { reason: 'idp_refresh_failed' }, event_id: 'invalid_grant' });
  t.match(user.sessions[0], { status: 'revoked' });
  const metrics = await (await adminFetch(s.stack, '/metrics')).text();
  t.match(metrics, /gatehouse_identity_refreshes_total\{idp="corp",outcome="revoked"\} 1/);
});

t.test('the IdP unreachable: the last identity holds for refresh_max_stale, then 401 identity_stale', async (t) => {
  const s = await setUp(t, { refresh: '1s', refresh_max_stale: '2s' });
  const token = await signIn(s, 'ann');
  t.equal((await get(s, token)).status, 200);
  await s.idp.stop();
  await useUntil(s, token, (status, body) => status === 401 && body.reason === 'identity_stale', 'stale after refresh_max_stale');
  const metrics = await (await adminFetch(s.stack, '/metrics')).text();
  t.match(metrics, /gatehouse_identity_refreshes_total\{idp="corp",outcome="unreachable"\} [1-9]/, 'failures counted before it went stale');
});

t.test('config: refresh and back-channel logout are oidc-only keys, durations checked', async (t) => {
  const upstream = await startUpstream(t);
  const bad = startStack(t, {
    apps: { app: { name: 'app', hosts: ['app.test'], upstream: upstream.url, policies: [{ name: 'all', action: 'bypass', include: [{ everyone: true }] }] } },
    gateway: { identity_providers: [{ id: 'local', type: 'local_users', file: 'users.yaml', refresh: '10m', backchannel_logout: true }] },
    files: { 'users.yaml': 'users: []\n' },
  });
  await t.rejects(bad, /refresh: applies only to oidc providers/);
});

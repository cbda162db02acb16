// Identity refresh against a real provider (oidc-provider), the two gaps live identity closes:
//  - a claim the IdP no longer sends is removed from the session's identity on refresh (not kept
//    from the old identity): a `claim:` policy that needed it denies, the history names the claim;
//  - a session whose identity turns stale (the IdP unreachable past refresh_max_stale) has its open
//    WebSockets closed with 4401, like a revoked session's, and its requests get identity_stale.
import t, { type Test } from 'tap';
import { installAdminApi } from '../../src/admin/install.js';
import type { Gateway } from '../../src/gateway.js';
import { installLogin } from '../../src/login/install.js';
import { eventually } from '../helpers/pg.js';
import { adminFetch, request, startStack, startUpstream, type Stack } from '../helpers/stack.js';
import { acceptWebSockets, openWebSocket } from '../helpers/websocket.js';
import { Browser } from '../login/helpers/browser.js';
import { startOidc, walkIdp } from '../login/helpers/flows.js';
import { startIdp, type Idp, type IdpAccount } from '../login/helpers/idp.js';
import { patchOf } from '../../src/login/refresh/refresher.js';

interface Setup {
  stack: Stack;
  idp: Idp;
  accounts: Record<string, IdpAccount>;
}

async function setUp(t: Test, provider: Record<string, unknown>): Promise<Setup> {
  const upstream = await startUpstream(t);
  acceptWebSockets(upstream);
  const accounts: Record<string, IdpAccount> = {
    ann: { email: 'ann@corp.example', email_verified: true, name: 'Ann', groups: ['staff'], department: 'engineering' },
  };
  const idp = await startIdp(t, { redirectUris: ['http://wiki.test/.gatehouse/callback'], accounts, refreshTokens: true, extraClaims: ['department'] });
  const stack = await startStack(t, {
    apps: {
      wiki: {
        name: 'wiki',
        hosts: ['wiki.test'],
        upstream: upstream.url,
        policies: [{ name: 'engineering', action: 'allow', include: [{ claim: { name: 'department', value: 'engineering' } }] }],
      },
    },
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

async function signIn(s: Setup): Promise<string> {
  const br = new Browser({ 'wiki.test': s.stack.port });
  const cb = await walkIdp(br, await startOidc(br, 'http://wiki.test/'), 'ann');
  await br.request(cb);
  return br.cookie('gatehouse_session', 'wiki.test') as string;
}

const get = (s: Setup, token: string) => request(s.stack.port, { host: 'wiki.test', headers: { cookie: `gatehouse_session=${token}` } });

t.test('a claim the IdP no longer sends is removed on refresh, and decisions follow', async (t) => {
  const s = await setUp(t, { refresh: '1s' });
  const token = await signIn(s);
  t.equal((await get(s, token)).status, 200, 'allowed on department: engineering');

  delete (s.accounts.ann as IdpAccount).department;
  // The refresh runs in the background for sessions in use: keep using it until it is decided anew.
  await eventually(async () => (await get(s, token)).status === 403, 30_000, 100, 'denied once the refresh dropped the claim');
  const denied = await get(s, token);
  t.equal(denied.status, 403, 'the claim is gone from the identity, not kept from sign-in');

  const user = (await (await adminFetch(s.stack, '/admin/users/ann@corp.example')).json()) as { history: Array<Record<string, unknown>>; sessions: Array<{ id: string }> };
  const change = user.history.find((h) => h.source === 'refresh');
  t.match(change, { source: 'refresh', claims_changed: ['department'] }, 'the history names the dropped claim');

  // Denied requests keep the session in use: the refresh goes on, and the claim given back at the
  // IdP lets the same session in again without a new sign-in.
  (s.accounts.ann as IdpAccount).department = 'engineering';
  await eventually(async () => (await get(s, token)).status === 200, 30_000, 100, 'allowed again once the IdP sends the claim again');
  t.equal((await get(s, token)).status, 200, 'the same session, decided on the refreshed identity');
});

t.test('an identity gone stale closes its open WebSocket with 4401, like a revoked session', async (t) => {
  const s = await setUp(t, { refresh: '1s', refresh_max_stale: '2s' });
  const token = await signIn(s);
  const ws = await openWebSocket(s.stack.port, 'wiki.test', '/ws', { cookie: `gatehouse_session=${token}`, origin: 'http://wiki.test' });
  t.match(ws.head, /^HTTP\/1\.1 101/, 'open while the identity is fresh');
  // Keep the session in use (refresh runs for sessions in use), then take the IdP away.
  t.equal((await get(s, token)).status, 200);
  await s.idp.stop();
  const ended = await ws.closed;
  t.equal(ended.code, 4401, 'closed with 4401 once refresh_max_stale passed');
  const refused = await get(s, token);
  t.equal(refused.status, 401);
  t.equal(refused.json().reason, 'identity_stale', 'and its requests are refused as identity_stale');
});

t.test('patchOf: what the IdP stopped sending is removed; the gateway’s own claims never are', async (t) => {
  const before = { sub: 'ann', email: 'ann@corp.example', groups: ['staff'], idp: 'corp', amr: ['pwd'], login_id: 'l-1', iss: 'gatehouse', aud: 'gatehouse', jti: 's-1', iat: 1, exp: 2, department: 'engineering', title: 'CTO', team: null };
  t.same(patchOf({ sub: 'ann', email: 'ann@corp.example', name: 'Ann', groups: ['staff'], idp: 'corp', amr: ['pwd'], title: 'CEO' }, before), {
    groups: { mode: 'replace', values: ['staff'] },
    name: 'Ann',
    claims: { title: 'CEO', department: null },
  });
  t.same(patchOf({ sub: 'ann', groups: [], idp: 'corp', amr: ['pwd'] }, { sub: 'ann', department: null }), { groups: { mode: 'replace', values: [] } }, 'an already removed claim is not removed again');
});

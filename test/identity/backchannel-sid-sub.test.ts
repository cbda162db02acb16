// OIDC Back-Channel Logout 1.0, a logout token naming both `sid` and `sub` (section 2.6 / 2.7):
// the sessions that IdP session started are revoked only when they belong to that subject. Against
// a real provider (oidc-provider, whose ID tokens carry sid), with logout tokens signed by its key.
import t from 'tap';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { installAdminApi } from '../../src/admin/install.js';
import type { Gateway } from '../../src/gateway.js';
import { installLogin } from '../../src/login/install.js';
import { adminFetch, request, startStack, startUpstream } from '../helpers/stack.js';
import { Browser } from '../login/helpers/browser.js';
import { startOidc, walkIdp } from '../login/helpers/flows.js';
import { startIdp } from '../login/helpers/idp.js';

const EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} };
const idpKey = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(idpKey.privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
const upstream = await startUpstream(t);
const accounts = Object.fromEntries(['ann', 'bob'].map((n) => [n, { email: `${n}@corp.example`, email_verified: true, groups: ['staff'] }]));
const idp = await startIdp(t, {
  redirectUris: ['http://app.test/.gatehouse/callback'],
  accounts,
  backchannelLogoutUri: 'http://app.test/.gatehouse/backchannel-logout/corp',
  jwks: { keys: [jwk] },
});
const stack = await startStack(t, {
  apps: { app: { name: 'app', hosts: ['app.test'], upstream: upstream.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
  gateway: {
    identity_providers: [
      { id: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'], backchannel_logout: true },
    ],
  },
  extend: async (g: Gateway) => {
    await installLogin(g);
    installAdminApi(g);
  },
});

const get = (token: string) => request(stack.port, { host: 'app.test', headers: { cookie: `gatehouse_session=${token}` } });
const logout = async (claims: Record<string, unknown>) => {
  const token = await new SignJWT({ iss: idp.issuer, aud: idp.clientId, iat: Math.floor(Date.now() / 1000), jti: `jti-${Math.random()}`, events: EVENT, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1', typ: 'logout+jwt' })
    .sign(idpKey.privateKey);
  const body = `logout_token=${token}`;
  return request(stack.port, { method: 'POST', host: 'app.test', path: '/.gatehouse/backchannel-logout/corp', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body });
};

/** Signs in through oidc-provider; the session token and the IdP session id recorded with it. */
async function signIn(login: string): Promise<{ token: string; sid: string }> {
  const br = new Browser({ 'app.test': stack.port, '127.0.0.1': idp.port });
  await br.request(await walkIdp(br, await startOidc(br, 'http://app.test/'), login));
  const token = br.cookie('gatehouse_session', 'app.test') as string;
  if ((await get(token)).status !== 200) throw new Error(`${login} could not sign in`);
  await stack.gw.writer.flush();
  const [session] = (await stack.gw.store.listSessions({ email: `${login}@corp.example`, limit: 1 })).items;
  const sid = (await stack.gw.store.getSession(session?.id ?? ''))?.idpSid;
  if (!sid) throw new Error('no IdP sid recorded at sign-in');
  return { token, sid };
}

t.test('sid and sub together: revoked only when the sid’s sessions belong to that sub', async (t) => {
  const ann = await signIn('ann');

  const wrong = await logout({ sid: ann.sid, sub: 'bob' });
  t.equal(wrong.status, 200, 'a valid logout token is answered 200 (nothing of Bob’s in that IdP session)');
  t.equal((await get(ann.token)).status, 200, 'Ann’s session (same sid, another subject) is not revoked');
  const history = ((await (await adminFetch(stack, '/admin/users/ann@corp.example')).json()) as { history: Array<Record<string, unknown>> }).history;
  t.notOk(history.some((h) => h.source === 'backchannel'), 'and nothing recorded against Ann');

  const right = await logout({ sid: ann.sid, sub: 'ann' });
  t.equal(right.status, 200);
  const refused = await get(ann.token);
  t.equal(refused.status, 401, 'the matching sid and sub revoke the session');
  t.equal(refused.json().reason, 'revoked');
});

t.test('sid alone still revokes every session of that IdP session; sub alone every session of the subject', async (t) => {
  const bob = await signIn('bob');
  t.equal((await logout({ sid: bob.sid })).status, 200);
  t.equal((await get(bob.token)).status, 401, 'sid alone');
  const again = await signIn('bob');
  t.equal((await logout({ sub: 'bob' })).status, 200);
  t.equal((await get(again.token)).status, 401, 'sub alone');
});

// OIDC Back-Channel Logout against a real provider (oidc-provider) and two gateways on one
// PostgreSQL schema: Ann signs in through instance A; she signs out at the IdP, which POSTs its
// logout token to instance B; her next request — to A — is refused. Then every way a logout token
// can be wrong (forged, replayed, another audience, a nonce, no event …) gets 400 and changes nothing.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { installAdminApi } from '../../src/admin/install.js';
import type { Gateway } from '../../src/gateway.js';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { installLogin } from '../../src/login/install.js';
import { adminFetch, request, startStack, startUpstream, type Stack } from '../helpers/stack.js';
import { eventually, pgUrl, testSchema } from '../helpers/pg.js';
import { needsPostgres } from '../helpers/machine.js';
import { Browser, parseForm, type Page } from './helpers/browser.js';
import { startOidc, walkIdp } from './helpers/flows.js';
import { startIdp, type Idp } from './helpers/idp.js';

const EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} };

if (await needsPostgres(t, 'the OIDC back-channel logout tests (two instances on PostgreSQL)')) {
  const idpKey = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(idpKey.privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
  const { a, b, idp } = await setUp(t);
  const hosts = { 'app.test': a.port };
  const sessionOf = (br: Browser) => br.cookie('gatehouse_session', 'app.test') as string;
  const get = (s: Stack, token: string) => request(s.port, { host: 'app.test', headers: { cookie: `gatehouse_session=${token}` } });
  const post = (s: Stack, body: string, provider = 'corp', type = 'application/x-www-form-urlencoded') =>
    request(s.port, { method: 'POST', host: 'app.test', path: `/.gatehouse/backchannel-logout/${provider}`, headers: { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) }, body });
  const signIn = async (login: string) => {
    const br = new Browser({ ...hosts, '127.0.0.1': idp.port });
    const cb = await walkIdp(br, await startOidc(br, 'http://app.test/'), login);
    t.equal((await br.request(cb)).status, 302, `${login} signed in through A`);
    return br;
  };
  /** A logout token as the IdP would sign it, with `over` changing or (undefined) removing claims. */
  const logoutToken = (over: Record<string, unknown> = {}, key: CryptoKey = idpKey.privateKey, kid = 'idp-key-1') => {
    const claims: Record<string, unknown> = { iss: idp.issuer, aud: idp.clientId, iat: Math.floor(Date.now() / 1000), jti: `jti-${Math.random()}`, events: EVENT, sub: 'ann', ...over };
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete claims[k];
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'logout+jwt' }).sign(key);
  };

  t.test('sign out at the IdP → its logout token reaches B → the session is refused on A', async (t) => {
    const ann = await signIn('ann');
    const token = sessionOf(ann);
    t.equal((await get(a, token)).status, 200);
    t.equal((await get(b, token)).status, 200, 'B serves the session too');
    await a.gw.writer.flush();
    const [session] = ((await (await adminFetch(a, '/admin/users/ann@corp.example')).json()) as { sessions: Array<{ id: string }> }).sessions;
    const record = await a.gw.store.getSession(session?.id ?? '');
    t.ok(record?.idpSid, 'the IdP session id (sid) was recorded at sign-in');

    // The IdP's own sign-out: its confirmation form, then it POSTs the logout token to B.
    const confirm = (await ann.navigate(`${idp.issuer}/session/end`)).at(-1) as Page;
    const form = parseForm(confirm.body, confirm.url);
    await ann.request(form.action, { form: { ...form.fields, logout: 'yes' } });
    t.equal(idp.logoutTokens.length, 1, 'the IdP sent one logout token');

    t.equal((await get(b, token)).status, 401, 'B, which received it, refuses at once');
    await eventually(async () => (await get(a, token)).status === 401, 5000, 20, 'A refuses the session');
    const refused = await get(a, token);
    t.equal(refused.json().reason, 'revoked');
    const { history } = (await (await adminFetch(a, '/admin/users/ann@corp.example')).json()) as { history: Array<Record<string, unknown>> };
    t.match(history[0], { source: 'backchannel', revoked: { reason: 'idp_logout' } });
    t.ok(typeof history[0]?.event_id === 'string' && (history[0].event_id as string).length > 0, 'with the logout token’s jti');

    const replay = await post(a, `logout_token=${idp.logoutTokens[0]}`);
    t.equal(replay.status, 400, 'the same token again (at the other instance) is a replay');
    t.equal(replay.headers['cache-control'], 'no-store');
    t.match(replay.json(), { error: 'invalid_request', error_description: /received before/ });
    const metrics = await (await adminFetch(b, '/metrics')).text();
    t.match(metrics, /gatehouse_identity_events_total\{channel="backchannel",result="accepted",reason="sid"\} 1/);
  });

  t.test('a logout token with only sub revokes every session of that subject at the provider', async (t) => {
    const one = sessionOf(await signIn('bob'));
    const two = sessionOf(await signIn('bob'));
    const cara = sessionOf(await signIn('cara'));
    const res = await post(b, `logout_token=${await logoutToken({ sub: 'bob' })}`);
    t.equal(res.status, 200);
    t.equal(res.headers['cache-control'], 'no-store');
    t.equal((await get(b, one)).status, 401);
    t.equal((await get(b, two)).status, 401, 'both of Bob’s sessions');
    t.equal((await get(b, cara)).status, 200, 'nobody else’s');
  });

  t.test('wrong logout tokens: 400 naming the problem, and nothing changes', async (t: Test) => {
    const dana = sessionOf(await signIn('dana'));
    const other = await generateKeyPair('RS256');
    const cases: Array<[string, string, RegExp]> = [
      ['signed by another key (same kid)', await logoutToken({ sub: 'dana' }, other.privateKey), /signature/],
      ['signed by an unknown key', await logoutToken({ sub: 'dana' }, other.privateKey, 'other-kid'), /key|JWKS/i],
      ['another audience', await logoutToken({ sub: 'dana', aud: 'another-client' }), /aud/],
      ['another issuer', await logoutToken({ sub: 'dana', iss: 'https://evil.example' }), /iss/],
      ['with a nonce', await logoutToken({ sub: 'dana', nonce: 'n-1' }), /nonce/],
      ['without the event', await logoutToken({ sub: 'dana', events: { 'https://example.com/other': {} } }), /events/],
      ['without sid and sub', await logoutToken({ sub: undefined }), /sid, sub/],
      ['without jti', await logoutToken({ sub: 'dana', jti: undefined }), /jti/],
      ['issued an hour ago', await logoutToken({ sub: 'dana', iat: Math.floor(Date.now() / 1000) - 3600 }), /iat|timestamp|age/],
      ['not a JWT', 'not-a-token', /./],
    ];
    for (const [what, token, detail] of cases) {
      const res = await post(b, `logout_token=${token}`);
      t.equal(res.status, 400, what);
      t.equal(res.headers['cache-control'], 'no-store', `${what}: not cached`);
      t.match(res.json(), { error: 'invalid_request', error_description: detail }, what);
    }
    t.equal((await post(b, 'something=else')).status, 400, 'no logout_token');
    t.equal((await post(b, `logout_token=${await logoutToken({ sub: 'dana' })}`, 'corp', 'application/json')).status, 400, 'not a form');
    t.equal((await post(b, `logout_token=${await logoutToken({ sub: 'dana' })}`, 'nope')).status, 404, 'no such provider');
    t.equal((await get(a, dana)).status, 200, 'Dana is still signed in everywhere');
    t.equal((await get(b, dana)).status, 200);
    const metrics = await (await adminFetch(b, '/metrics')).text();
    t.match(metrics, /gatehouse_identity_events_total\{channel="backchannel",result="refused",reason="nonce_present"\} 1/);
    t.match(metrics, /gatehouse_identity_events_total\{channel="backchannel",result="refused",reason="bad_aud"\} 1/);
  });

  async function setUp(t: Test): Promise<{ a: Stack; b: Stack; idp: Idp }> {
    const upstream = await startUpstream(t);
    const keysDir = mkdtempSync(join(tmpdir(), 'gh-bcl-keys-'));
    t.teardown(() => rmSync(keysDir, { recursive: true, force: true }));
    const keysFile = join(keysDir, 'session.jwks.json');
    await loadOrCreateKeySet(keysFile);
    const resolve: Record<string, number> = {};
    const accounts = Object.fromEntries(['ann', 'bob', 'cara', 'dana'].map((n) => [n, { email: `${n}@corp.example`, email_verified: true, groups: ['staff'] }]));
    const idp = await startIdp(t, {
      redirectUris: ['http://app.test/.gatehouse/callback'],
      accounts,
      backchannelLogoutUri: 'http://app.test/.gatehouse/backchannel-logout/corp',
      resolve,
      jwks: { keys: [jwk] },
    });
    const schema = testSchema(t, 'gh_bcl');
    const opts = {
      apps: { app: { name: 'app', hosts: ['app.test'], upstream: upstream.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
      gateway: {
        store: { postgres: pgUrl({ schema }) },
        session: { cookie: 'gatehouse_session', keys: keysFile, secure_cookie: false },
        identity_providers: [
          { id: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'], backchannel_logout: true },
        ],
      },
      extend: async (g: Gateway) => {
        await installLogin(g);
        installAdminApi(g);
      },
    };
    const a = await startStack(t, opts);
    const b = await startStack(t, opts);
    resolve['app.test'] = b.port; // the IdP's back-channel requests go to B
    return { a, b, idp };
  }
}

// Authentication and authorization against the running gateway: real hostile tokens, identity
// headers and the upstream assertion, the verified-token cache, revocation, JWKS outages,
// service tokens and WebSockets.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type CryptoKey } from 'jose';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { hashSecret } from '../../src/auth/password.js';
import type { Test } from 'tap';
import { request, startStack, startUpstream, type Stack, type Upstream } from '../helpers/stack.js';
// Cheap scrypt parameters (as the users files of the login tests): the hash is self-describing and
// what is tested here is the service token, not the cost of guessing its secret.
import { FAST } from '../login/helpers/users.js';

const ISSUER = 'https://sso.test';

interface Idp {
  url: string;
  key: CryptoKey;
  kid: string;
  publicJwk: JWK;
  server: http.Server;
  requests: number;
  up: boolean;
  sign(claims: Record<string, unknown>, opts?: { kid?: string; exp?: number | null; iat?: number; iss?: string; aud?: string }): Promise<string>;
}

/** An external issuer whose JWKS endpoint the test can take down. */
async function startIdp(t: Test): Promise<Idp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const idp = {
    key: privateKey,
    kid: 'k1',
    publicJwk,
    requests: 0,
    up: true,
  } as Idp;
  idp.server = http.createServer((_req, res) => {
    idp.requests++;
    if (!idp.up) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [idp.publicJwk] }));
  });
  await new Promise<void>((r) => idp.server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => idp.server.close(r)));
  idp.url = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}/jwks.json`;
  idp.sign = async (claims, o = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? idp.kid })
      .setIssuer(o.iss ?? ISSUER)
      .setAudience(o.aud ?? 'gatehouse')
      .setIssuedAt(o.iat ?? now)
      .setSubject(String(claims.sub ?? 'u1'));
    if (o.exp !== null) jwt.setExpirationTime(o.exp ?? now + 600);
    return jwt.sign(idp.key);
  };
  return idp;
}


const staffApp = (upstream: string, extra: Record<string, unknown> = {}) => ({
  name: 'app',
  hosts: ['app.test'],
  upstream,
  policies: [
    { name: 'contractors-out', action: 'deny', include: [{ group: 'contractors' }] },
    { name: 'staff', action: 'allow', include: [{ group: 'staff' }] },
  ],
  ...extra,
});

async function setup(t: Test, gateway: Record<string, unknown> = {}) {
  const idp = await startIdp(t);
  const up = await startUpstream(t);
  const secretHash = await hashSecret('s3cret-deployer-secret', FAST);
  const s = await startStack(t, {
    apps: {
      app: staffApp(up.url),
      cf: { ...staffApp(up.url, { identity_headers: 'cloudflare', show_denial_reasons: true }), name: 'cf', hosts: ['cf.test'] },
      creds: { ...staffApp(up.url, { pass_credentials: true }), name: 'creds', hosts: ['creds.test'] },
      plain: { ...staffApp(up.url, { jwt_assertion: false, identity_headers: 'pomerium' }), name: 'plain', hosts: ['plain.test'] },
      open: { name: 'open', hosts: ['open.test'], upstream: up.url, policies: [{ name: 'all', action: 'bypass', include: [{ everyone: true }] }] },
      svc: { name: 'svc', hosts: ['svc.test'], upstream: up.url, policies: [{ name: 'deployer', action: 'service_auth', include: [{ service_token: 'deployer' }] }] },
    },
    gateway: {
      token_issuers: [{ issuer: ISSUER, jwks_uri: idp.url, audience: 'gatehouse', algorithms: ['ES256'], clock_tolerance: '0s', jwks_cooldown: '1s' }],
      service_tokens: [{ name: 'deployer', client_id: 'deployer-id', secret_hash: secretHash }],
      ...gateway,
    },
  });
  const session = (claims: Record<string, unknown> = {}, durationMs = 3_600_000) =>
    mintSessionToken(s.gw.services.keys, { sub: 'alice-id', email: 'alice@corp.example', name: 'Alice', groups: ['staff'], idp: 'corp', amr: ['pwd', 'mfa'], ...claims }, durationMs);
  return { idp, up, s, session };
}

const cookie = (token: string) => ({ cookie: `gatehouse_session=${token}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const lastHeaders = (up: Upstream) => up.seen.at(-1)?.headers ?? {};

t.test('no credential: 401 with a Bearer challenge; hostile tokens get their reason code', async (t) => {
  const { idp, up, s, session } = await setup(t);

  let r = await request(s.port);
  t.equal(r.status, 401);
  t.equal(r.headers['www-authenticate'], 'Bearer realm="app"');
  t.equal(r.json().reason, 'token_missing');

  const now = Math.floor(Date.now() / 1000);
  const good = await idp.sign({ sub: 'bob', email: 'bob@corp.example', groups: ['staff'] });
  const [h, p, sig] = good.split('.') as [string, string, string];
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const publicPem = Buffer.from(JSON.stringify(idp.publicJwk));
  const { createHmac } = await import('node:crypto');
  const hsHeader = b64({ alg: 'HS256', kid: 'k1' });
  const hsPayload = b64({ iss: ISSUER, aud: 'gatehouse', sub: 'x', iat: now, exp: now + 600, groups: ['staff'] });
  const hsToken = `${hsHeader}.${hsPayload}.${createHmac('sha256', publicPem).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`;
  const otherKey = await generateKeyPair('ES256');
  const embeddedJwk = await new SignJWT({ groups: ['staff'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', jwk: await exportJWK(otherKey.publicKey) })
    .setIssuer(ISSUER).setAudience('gatehouse').setIssuedAt().setExpirationTime('10m').sign(otherKey.privateKey);

  const hostile: Array<[string, string]> = [
    ['alg none', `${b64({ alg: 'none' })}.${p}.`, ],
    ['HS256 keyed with the public key', hsToken],
    ['tampered payload', `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), groups: ['admins', 'staff'] })}.${sig}`],
    ['unknown kid', await idp.sign({ groups: ['staff'] }, { kid: 'nope' })],
    ['embedded jwk header', embeddedJwk],
    ['missing exp', await idp.sign({ groups: ['staff'] }, { exp: null })],
    ['future iat', await idp.sign({ groups: ['staff'] }, { iat: now + 3600, exp: now + 7200 })],
    ['wrong audience', await idp.sign({ groups: ['staff'] }, { aud: 'other' })],
    ['wrong issuer', await idp.sign({ groups: ['staff'] }, { iss: 'https://evil.test' })],
    ['expired', await idp.sign({ groups: ['staff'] }, { iat: now - 7200, exp: now - 3600 })],
    ['oversized', await idp.sign({ groups: ['staff'], pad: 'x'.repeat(9000) })],
    ['not three parts', 'abc.def'],
  ].map(([n, tok]) => [n as string, tok as string]);
  const expected: Record<string, string> = {
    'alg none': 'alg_not_allowed',
    'HS256 keyed with the public key': 'alg_not_allowed',
    'tampered payload': 'bad_signature',
    'unknown kid': 'unknown_key',
    'embedded jwk header': 'bad_signature',
    'missing exp': 'token_malformed',
    'future iat': 'not_yet_valid',
    'wrong audience': 'audience_mismatch',
    'wrong issuer': 'issuer_mismatch',
    expired: 'expired',
    oversized: 'token_too_large',
    'not three parts': 'token_malformed',
  };
  for (const [name, token] of hostile) {
    r = await request(s.port, { headers: bearer(token) });
    t.equal(r.status, 401, `${name}: 401, never a 500`);
    t.equal(r.json().reason, expected[name], `${name}: ${expected[name]}`);
    t.equal(r.headers['www-authenticate'], 'Bearer realm="app", error="invalid_token"');
  }
  t.equal(up.seen.length, 0, 'no hostile token reached the upstream');

  r = await request(s.port, { headers: bearer(good) });
  t.equal(r.status, 200, 'the untampered token is fine');

  const a = await session();
  const b = await session({ sub: 'mallory' });
  r = await request(s.port, { headers: { ...cookie(a.token), ...bearer(b.token) } });
  t.equal(r.status, 401);
  t.equal(r.json().reason, 'conflicting_credentials', 'two identities on one request');
  r = await request(s.port, { headers: { ...cookie(a.token), ...bearer(a.token) } });
  t.equal(r.status, 200, 'the same token twice is one identity');

  const metrics = await fetch(`${s.adminUrl}/metrics`).then((x) => x.text());
  t.match(metrics, /gatehouse_requests_total\{app="app",status="401",decision="unauthenticated"\} \d+/);
});

t.test('allow: identity headers, a verifiable assertion, credentials not forwarded', async (t) => {
  const { up, s, session } = await setup(t);
  const alice = await session();
  let r = await request(s.port, {
    headers: { ...cookie(alice.token), 'x-gatehouse-user-email': 'ceo@corp.example', connection: 'x-gatehouse-user-email, x-gatehouse-jwt-assertion', 'x-other': 'kept' },
  });
  t.equal(r.status, 200);
  let h = lastHeaders(up);
  t.equal(h['x-gatehouse-user-email'], 'alice@corp.example', 'the spoofed header was replaced, and Connection could not drop ours');
  t.equal(h['x-gatehouse-user-id'], 'alice-id');
  t.equal(h['x-gatehouse-user-groups'], 'staff');
  t.notOk(h.cookie, 'the session cookie is not forwarded');
  t.equal(h['x-other'], 'kept');

  const certs = await request(s.port, { path: '/.gatehouse/certs' });
  t.equal(certs.status, 200);
  const jwks = createLocalJWKSet(certs.json() as { keys: JWK[] });
  t.notOk(JSON.stringify(certs.json()).includes('"d"'), 'only public keys are published');
  const { payload, protectedHeader } = await jwtVerify(h['x-gatehouse-jwt-assertion'] as string, jwks, { audience: 'app', issuer: 'gatehouse' });
  t.equal(protectedHeader.alg, 'ES256');
  t.match(payload, { sub: 'alice-id', email: 'alice@corp.example', groups: ['staff'], amr: ['pwd', 'mfa'], idp: 'corp', sid: alice.jti });
  t.ok((payload.exp as number) - (payload.iat as number) <= 300, 'assertion lives at most 5 minutes');

  r = await request(s.port, { headers: { ...bearer(alice.token), cookie: 'theme=dark' } });
  h = lastHeaders(up);
  t.notOk(h.authorization, 'a consumed bearer token is not forwarded');
  t.equal(h.cookie, 'theme=dark', 'other cookies are');

  r = await request(s.port, { host: 'creds.test', headers: cookie(alice.token) });
  t.match(lastHeaders(up).cookie, /gatehouse_session=/, 'pass_credentials keeps them');

  r = await request(s.port, { host: 'cf.test', headers: { ...cookie(alice.token), 'cf-access-authenticated-user-email': 'ceo@corp.example' } });
  h = lastHeaders(up);
  t.equal(h['cf-access-authenticated-user-email'], 'alice@corp.example');
  t.equal(h['cf-access-jwt-assertion'], h['x-gatehouse-jwt-assertion']);

  const signedBefore = s.gw.services.assertions.signatures;
  r = await request(s.port, { host: 'plain.test', headers: { ...cookie(alice.token), 'x-gatehouse-jwt-assertion': 'forged', 'x-pomerium-jwt-assertion': 'forged' } });
  t.equal(r.status, 200);
  h = lastHeaders(up);
  t.equal(h['x-gatehouse-user-email'], 'alice@corp.example', 'jwt_assertion: false keeps the identity headers');
  t.equal(h['x-pomerium-claim-email'], 'alice@corp.example');
  t.notOk(h['x-gatehouse-jwt-assertion'], 'jwt_assertion: false sends no assertion, and strips a client-sent one');
  t.notOk(h['x-pomerium-jwt-assertion'], 'nor the identity_headers product’s copy');
  t.equal(s.gw.services.assertions.signatures, signedBefore, 'nothing was signed for it');

  r = await request(s.port, { host: 'open.test', headers: { 'x-gatehouse-user-email': 'ceo@corp.example', 'X-GATEHOUSE-USER-GROUPS': 'admins' } });
  t.equal(r.status, 200);
  h = lastHeaders(up);
  t.notOk(h['x-gatehouse-user-email'], 'bypass apps get client identity headers stripped too');
  t.notOk(h['x-gatehouse-user-groups']);

  const weird = await session({ email: 'zoë@corp.example', groups: ['staff', 'a\r\nX-Injected: 1', 'ünï✓'] });
  r = await request(s.port, { headers: cookie(weird.token) });
  t.equal(r.status, 200, 'header-unsafe claim values never crash the gateway');
  h = lastHeaders(up);
  t.notOk(h['x-injected'], 'no header injection');
  t.notMatch(String(h['x-gatehouse-user-groups']), /[\r\n]/);
});

t.test('deny: a 403 page with app, email and request id; reasons only when the app allows', async (t) => {
  const { up, s, session } = await setup(t);
  const bob = await session({ email: 'bob@corp.example', groups: ['sales'] });
  let r = await request(s.port, { headers: cookie(bob.token) });
  t.equal(r.status, 403);
  t.match(r.json(), { error: 'forbidden', app: 'app', email: 'bob@corp.example', request_id: r.headers['x-request-id'] });
  t.notOk(r.json().reasons, 'policy internals hidden by default');
  r = await request(s.port, { headers: { ...cookie(bob.token), accept: 'text/html' } });
  t.match(r.body, /Access denied/);
  t.match(r.body, /bob@corp\.example/);
  t.match(r.body, /administrator/);
  r = await request(s.port, { host: 'cf.test', headers: cookie(bob.token) });
  t.equal(r.status, 403);
  t.match(r.json().reasons, [/group .*not in \[sales\]/], 'show_denial_reasons: true shows them');
  const carol = await session({ email: 'carol@corp.example', groups: ['staff', 'contractors'] });
  r = await request(s.port, { headers: cookie(carol.token) });
  t.equal(r.status, 403, 'deny wins over allow');
  t.equal(up.seen.length, 0);
});

t.test('cache: hits skip verification; expiry and revocation still hold', async (t) => {
  const { idp, s, session } = await setup(t);
  const stats = () => s.gw.services.authenticator.cacheStats();
  const alice = await session();
  const before = stats();
  for (let i = 0; i < 5; i++) t.equal((await request(s.port, { headers: cookie(alice.token) })).status, 200);
  const after = stats();
  t.equal(after.misses - before.misses, 1, 'one verification');
  t.equal(after.hits - before.hits, 4, 'then four cache hits');

  const now = Math.floor(Date.now() / 1000);
  const shortLived = await idp.sign({ sub: 'dave', groups: ['staff'] }, { exp: now + 2 });
  t.equal((await request(s.port, { headers: bearer(shortLived) })).status, 200);
  await new Promise((r) => setTimeout(r, 2200));
  const r = await request(s.port, { headers: bearer(shortLived) });
  t.equal(r.status, 401, 'the cache never outlives exp');
  t.equal(r.json().reason, 'expired');

  t.equal((await request(s.port, { headers: cookie(alice.token) })).status, 200, 'cached');
  await s.gw.revoker.revokeSession(alice.jti, 'test', 'stolen laptop');
  const revoked = await request(s.port, { headers: cookie(alice.token) });
  t.equal(revoked.status, 401, 'revoked on the very next request');
  t.equal(revoked.json().reason, 'revoked');
  await s.gw.writer.flush();
  const recorded = await s.gw.store.listDecisions({ requestId: revoked.headers['x-request-id'] as string, limit: 1 });
  t.match(recorded.items[0], { outcome: 'unauthenticated', reason: 'revoked', sessionId: alice.jti, email: 'alice@corp.example' }, 'the refusal is traceable to the session');
});

t.test('JWKS outage: last good keys keep serving; unreachable at start fails closed', async (t) => {
  const { idp, s } = await setup(t);
  t.equal((await request(s.port, { headers: bearer(await idp.sign({ sub: 'e1', groups: ['staff'] })) })).status, 200);
  idp.up = false;
  await new Promise((r) => setTimeout(r, 1100)); // past jwks_cooldown since the start-up fetch
  // An unknown kid makes the gateway try the endpoint (which now fails).
  await request(s.port, { headers: bearer(await idp.sign({ groups: ['staff'] }, { kid: 'k2' })) });
  const fresh = await idp.sign({ sub: 'e2', groups: ['staff'] });
  t.equal((await request(s.port, { headers: bearer(fresh) })).status, 200, 'a new token still verifies with the last good key set');
  const ready = await fetch(`${s.adminUrl}/readyz`).then((r) => r.json() as Promise<{ checks: Record<string, { ok: boolean; detail?: string }> }>);
  t.match(ready.checks[`issuer:${ISSUER}`], { ok: true, detail: /last good/ }, 'staleness is reported');
  const metrics = await fetch(`${s.adminUrl}/metrics`).then((r) => r.text());
  t.match(metrics, new RegExp(`gatehouse_jwks_stale\\{issuer="${ISSUER.replace(/[/.]/g, '\\$&')}"\\} 1`));

  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise((r) => dead.close(r));
  const up = await startUpstream(t);
  const s2: Stack = await startStack(t, {
    apps: { app: staffApp(up.url) },
    gateway: { token_issuers: [{ issuer: ISSUER, jwks_uri: `http://127.0.0.1:${deadPort}/jwks.json`, audience: 'gatehouse', algorithms: ['ES256'] }] },
  });
  const notReady = await fetch(`${s2.adminUrl}/readyz`);
  t.equal(notReady.status, 503, 'not ready while an issuer has no keys');
  const r = await request(s2.port, { headers: bearer(fresh) });
  t.equal(r.status, 401);
  t.equal(r.json().reason, 'keys_unavailable', 'fails closed');
});

t.test('service tokens and service_auth', async (t) => {
  const { up, s, session } = await setup(t);
  const svc = { 'gatehouse-client-id': 'deployer-id', 'gatehouse-client-secret': 's3cret-deployer-secret' };
  let r = await request(s.port, { host: 'svc.test', headers: svc });
  t.equal(r.status, 200);
  t.notOk(lastHeaders(up)['gatehouse-client-secret'], 'the secret is not forwarded');
  r = await request(s.port, { host: 'svc.test', headers: { ...svc, 'gatehouse-client-secret': 'wrong-secret' } });
  t.equal(r.status, 401);
  r = await request(s.port, { host: 'svc.test', headers: cookie((await session()).token) });
  t.equal(r.status, 403, 'a person’s session is not a service credential');
});

function upgrade(port: number, headers: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () =>
      sock.write(`GET /ws HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`),
    );
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.startsWith('HTTP/1.1 101')) {
        sock.destroy();
        resolve(buf);
      }
    });
    sock.on('close', () => resolve(buf));
    sock.on('error', () => resolve(buf));
  });
}

t.test('WebSockets: same authentication and policy; cross-site origins refused; revocation closes', async (t) => {
  const { up, s, session } = await setup(t);
  const open = new Set<net.Socket>();
  up.server.on('upgrade', (_req, socket: net.Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
  });
  const alice = await session();
  t.match(await upgrade(s.port, ''), /^HTTP\/1\.1 401/, 'no credential, no 101');
  t.match(await upgrade(s.port, `Cookie: gatehouse_session=${(await session({ groups: ['sales'] })).token}\r\nOrigin: http://app.test\r\n`), /^HTTP\/1\.1 403/, 'denied, no 101');
  t.match(await upgrade(s.port, `Cookie: gatehouse_session=${alice.token}\r\nOrigin: https://evil.test\r\n`), /^HTTP\/1\.1 403/, 'cross-site WebSocket hijacking refused');
  t.match(await upgrade(s.port, `Authorization: Bearer ${alice.token}\r\n`), /^HTTP\/1\.1 101/, 'bearer tokens need no Origin');

  // A long-lived connection of a session that is then revoked is closed (the test's timeout is the
  // only ceiling: how soon is bench's business), while another session's connection stays open.
  const openWs = (token: string) => {
    const sock = net.connect(s.port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write(`GET /ws HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: gatehouse_session=${token}\r\nOrigin: http://app.test\r\n\r\n`);
    return sock;
  };
  const bystander = openWs((await session({ sub: 'bob-id', email: 'bob@corp.example' })).token);
  let bystanderClosed = false;
  bystander.on('close', () => (bystanderClosed = true));
  t.teardown(() => void bystander.destroy());
  await new Promise<void>((resolve) => bystander.once('data', () => resolve()));
  const sock = openWs(alice.token);
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  await new Promise<void>((resolve) => sock.once('data', () => resolve()));
  await s.gw.revoker.revokeSession(alice.jti, 'test', 'ws');
  await closed;
  t.pass("the revoked session's WebSocket is closed");
  t.equal(bystanderClosed, false, "another session's WebSocket stays open");
});

// Every credential failure code, each produced by a real hostile request through the Authenticator.
import t from 'tap';
import { createHmac, createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TOKEN_REASONS, type TokenReason } from '../../src/errors.js';
import { Authenticator, type AuthResult } from '../../src/auth/authenticator.js';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { RevocationSet } from '../../src/auth/revocations.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { silentLogger } from '../../src/log.js';
import { closedPort, gatewayConfig, issuerConfig, nowSec, rawToken, signToken, testKey } from './helpers.js';

const SSO = 'https://sso.test';
const DOWN = 'https://down.test';

t.test('every TOKEN_REASONS code from a real hostile request', async (t) => {
  const dir = t.testdir({});
  const keys = await loadOrCreateKeySet(join(dir, 'keys.json'));
  const sso = await testKey();
  const stranger = await testKey();
  const jwksFile = join(dir, 'sso.jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [sso.publicJwk] }));
  const config = gatewayConfig({
    cookie: 'gh',
    tokenIssuers: [
      issuerConfig({ issuer: SSO, jwksFile }),
      issuerConfig({ issuer: DOWN, jwksUri: `http://127.0.0.1:${await closedPort()}/jwks` }),
    ],
  });
  const revocations = new RevocationSet();
  const auth = await Authenticator.create(config, keys, revocations, silentLogger, { jwksTimeoutMs: 1000 });
  t.teardown(() => auth.close());

  const seen = new Set<TokenReason>();
  const expectFail = async (name: string, headers: Record<string, string>, reason: TokenReason): Promise<void> => {
    const r: AuthResult = await auth.authenticate(headers, 'wiki');
    t.match(r, { ok: false, reason, tokenSent: reason !== 'token_missing' }, name);
    if (!r.ok) seen.add(r.reason);
  };
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const gw = { iss: 'gatehouse', aud: 'gatehouse' };
  const gwKey = { privateKey: keys.signingKey.key, kid: keys.signingKey.kid, publicJwk: keys.publicJwks.keys[0]! };
  const good = await mintSessionToken(keys, { sub: 'alice', email: 'alice@corp.example', groups: ['staff'], idp: 'local', amr: ['pwd'] }, 60_000);

  // A baseline: the good token is accepted.
  const ok = await auth.authenticate(bearer(good.token), 'wiki');
  t.equal(ok.ok, true, 'the untampered session token is accepted');

  await expectFail('no credential', {}, 'token_missing');

  await expectFail('not three parts', bearer('abc.def'), 'token_malformed');
  await expectFail('not base64url', bearer('a$b.c.d'), 'token_malformed');
  await expectFail('payload not JSON', bearer(rawToken({ alg: 'ES256' }, 'not json', 'c2ln')), 'token_malformed');
  await expectFail('missing exp', bearer(await signToken({ ...gwKey }, { ...gw, exp: undefined })), 'token_malformed');
  await expectFail('missing iat', bearer(await signToken({ ...gwKey }, { ...gw, iat: undefined })), 'token_malformed');
  await expectFail('missing sub', bearer(await signToken({ ...gwKey }, { ...gw, sub: undefined })), 'token_malformed');

  const huge = await signToken(gwKey, { ...gw, pad: 'x'.repeat(9000) });
  await expectFail('over 8 KB (validly signed)', bearer(huge), 'token_too_large');

  const [h, p, s] = good.token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, groups: ['admin'] })).toString('base64url')}.${s}`;
  await expectFail('tampered payload', bearer(tampered), 'bad_signature');
  await expectFail('signature of another token', bearer(`${h}.${p}.${huge.split('.')[2]}`), 'bad_signature');

  // Embedded key: the attacker signs with their own key and ships its public part in the header.
  const embedded = await signToken(stranger, gw, { kid: keys.signingKey.kid, jwk: stranger.publicJwk });
  await expectFail('embedded jwk header is not trusted', bearer(embedded), 'bad_signature');

  await expectFail('alg none', bearer(rawToken({ alg: 'none' }, { ...gw, sub: 'alice', iat: nowSec(), exp: nowSec() + 60 })), 'alg_not_allowed');
  // Algorithm confusion: HS256 keyed with the gateway's PUBLIC key bytes (JWK JSON and PEM forms).
  const pub = keys.publicJwks.keys[0]!;
  for (const secret of [JSON.stringify(pub), createPublicKey(keys.signingKey.key).export({ format: 'pem', type: 'spki' }).toString()]) {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: pub.kid })).toString('base64url');
    const input = `${header}.${p}`;
    const mac = createHmac('sha256', secret).update(input).digest('base64url');
    await expectFail('HS256 keyed with the public key', bearer(`${input}.${mac}`), 'alg_not_allowed');
  }
  await expectFail('RS256 for an ES256 issuer', bearer(await signToken(await testKey('RS256'), { iss: SSO })), 'alg_not_allowed');

  await expectFail('expired', bearer(await signToken(gwKey, { ...gw, iat: nowSec() - 3600, exp: nowSec() - 60 })), 'expired');
  await expectFail('nbf in the future', bearer(await signToken(gwKey, { ...gw, nbf: nowSec() + 3600 })), 'not_yet_valid');
  await expectFail('iat in the future', bearer(await signToken(gwKey, { ...gw, iat: nowSec() + 3600 })), 'not_yet_valid');

  await expectFail('unknown issuer', bearer(await signToken(sso, { iss: 'https://evil.test' })), 'issuer_mismatch');
  await expectFail('no iss at all', bearer(await signToken(sso, {})), 'issuer_mismatch');
  await expectFail('wrong audience', bearer(await signToken(sso, { iss: SSO, aud: 'other-app' })), 'audience_mismatch');
  await expectFail('gateway token for another audience', bearer(await signToken(gwKey, { iss: 'gatehouse', aud: 'wiki' })), 'audience_mismatch');

  await expectFail('unknown kid', bearer(await signToken(stranger, { iss: SSO })), 'unknown_key');
  await expectFail('JWKS unreachable', bearer(await signToken(sso, { iss: DOWN })), 'keys_unavailable');

  revocations.revokeSession(good.jti);
  await expectFail('revoked session', bearer(good.token), 'revoked');

  await expectFail('two different credentials', { cookie: `gh=${good.token}`, authorization: `Bearer ${tampered}` }, 'conflicting_credentials');

  // identity_stale is a session's state, not a property of a token: it takes an IdP that stays
  // unreachable past refresh_max_stale, which test/login/refresh.test.ts produces end to end.
  const ELSEWHERE: readonly TokenReason[] = ['identity_stale'];
  t.same([...seen].sort(), TOKEN_REASONS.filter((r) => !ELSEWHERE.includes(r)).sort(), 'every token code was produced');
});

t.test('a valid external token and its identity', async (t) => {
  const dir = t.testdir({});
  const keys = await loadOrCreateKeySet(join(dir, 'keys.json'));
  const sso = await testKey();
  const jwksFile = join(dir, 'sso.jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [sso.publicJwk] }));
  const config = gatewayConfig({ tokenIssuers: [issuerConfig({ issuer: SSO, jwksFile, groupsClaim: 'realm.roles', emailClaim: 'upn' })] });
  const auth = await Authenticator.create(config, keys, new RevocationSet(), silentLogger);
  t.teardown(() => auth.close());

  const token = await signToken(sso, { iss: SSO, upn: 'bob@corp.example', realm: { roles: ['ops', 'dev'] }, amr: ['mfa'], name: 'Bob' }, { typ: 'at+jwt' });
  const r = await auth.authenticate({ authorization: `Bearer ${token}` }, 'wiki');
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  t.equal(r.source, 'bearer');
  t.equal(r.cacheHit, false);
  t.match(r.identity, {
    kind: 'token',
    subject: 'user-1',
    email: 'bob@corp.example',
    name: 'Bob',
    groups: ['ops', 'dev'],
    amr: ['mfa'],
    idp: SSO,
    issuer: SSO,
  });
  t.match(r.identity.sessionId, /^[0-9a-f]{64}$/, 'no jti: the session id is the SHA-256 of the token');
  t.ok(Object.isFrozen(r.identity) && Object.isFrozen(r.identity.claims), 'the shared identity cannot be mutated');
});

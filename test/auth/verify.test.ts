import t from 'tap';
import { join } from 'node:path';
import { EmbeddedJWK, errors, jwtVerify, SignJWT } from 'jose';
import { externalSource, gatewaySource } from '../../src/auth/issuers.js';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { KeysUnavailableError } from '../../src/auth/remote-jwks.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import {
  claimAt,
  isExpectedError,
  MAX_TOKEN_LENGTH,
  peekIssuer,
  precheck,
  stringList,
  toTokenReason,
  TokenVerifier,
} from '../../src/auth/verify.js';
import { issuerConfig, nowSec, signToken, startJwksServer, testKey } from './helpers.js';

t.test('toTokenReason maps every jose error in one place', async (t) => {
  const claims = {};
  const cases: Array<[unknown, string]> = [
    [new errors.JWTExpired('x', claims, 'exp'), 'expired'],
    [new errors.JWTClaimValidationFailed('x', claims, 'nbf', 'check_failed'), 'not_yet_valid'],
    [new errors.JWTClaimValidationFailed('x', claims, 'iat', 'check_failed'), 'not_yet_valid'],
    [new errors.JWTClaimValidationFailed('x', claims, 'iat', 'invalid'), 'token_malformed'],
    [new errors.JWTClaimValidationFailed('x', claims, 'iss', 'check_failed'), 'issuer_mismatch'],
    [new errors.JWTClaimValidationFailed('x', claims, 'aud', 'check_failed'), 'audience_mismatch'],
    [new errors.JWTClaimValidationFailed('x', claims, 'aud', 'missing'), 'audience_mismatch'],
    [new errors.JWTClaimValidationFailed('x', claims, 'exp', 'missing'), 'token_malformed'],
    [new errors.JWTClaimValidationFailed('x', claims, 'iat', 'missing'), 'token_malformed'],
    [new errors.JWSSignatureVerificationFailed(), 'bad_signature'],
    [new errors.JOSEAlgNotAllowed('x'), 'alg_not_allowed'],
    [new errors.JWKSNoMatchingKey(), 'unknown_key'],
    [new errors.JWKSMultipleMatchingKeys(), 'unknown_key'],
    [new errors.JWKSTimeout(), 'keys_unavailable'],
    [new errors.JWKSInvalid('x'), 'keys_unavailable'],
    [new errors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response'), 'keys_unavailable'],
    [new KeysUnavailableError('https://x', 'down'), 'keys_unavailable'],
    [new errors.JWSInvalid('x'), 'token_malformed'],
    [new errors.JWTInvalid('x'), 'token_malformed'],
    [new errors.JOSENotSupported('x'), 'token_malformed'],
    [new TypeError('odd'), 'token_malformed'],
  ];
  for (const [err, reason] of cases) t.equal(toTokenReason(err), reason, `${(err as Error).constructor.name} ${(err as { claim?: string }).claim ?? ''}`);
  t.equal(isExpectedError(new TypeError('x')), false);
  t.equal(isExpectedError(new errors.JWTExpired('x', {})), true);
});

t.test('shape checks before parsing', async (t) => {
  t.equal(precheck('a'.repeat(MAX_TOKEN_LENGTH + 1)), 'token_too_large');
  t.equal(precheck('e30.e30.AA'), null);
  t.equal(precheck('e30.e30.'), null, 'an empty signature reaches jose (alg none → alg_not_allowed)');
  t.equal(precheck('a.b.c'), 'token_malformed', 'a lone base64url character encodes no byte');
  t.equal(precheck('e30.e30.AB'), 'token_malformed', 'unused bits set: a second spelling of the same bytes');
  for (const bad of ['', 'a.b', 'a.b.c.d', 'a..c', '.b.c', 'a b.c.d', 'a.b=.c', 'a.b.c\n']) t.equal(precheck(bad), 'token_malformed', JSON.stringify(bad));
  t.equal(peekIssuer('e30.eyJpc3MiOiJ4In0.s'), 'x');
  t.equal(peekIssuer('e30.e30.s'), '', 'no iss');
  t.equal(peekIssuer('e30.W10.s'), null, 'an array payload');
  t.equal(peekIssuer('e30.bm9wZQ.s'), null, 'not JSON');
});

t.test('claim helpers', async (t) => {
  t.same(stringList(['a', 1, 'b', '']), ['a', 'b']);
  t.same(stringList('a b,c ,, d'), ['a', 'b', 'c', 'd']);
  t.same(stringList(undefined), []);
  t.same(stringList({ a: 1 }), []);
  t.equal(claimAt({ 'a.b': 1, a: { b: 2 } }, 'a.b'), 1, 'a literal dotted name wins');
  t.equal(claimAt({ a: { b: 2 } }, 'a.b'), 2);
  t.equal(claimAt({ a: [{ b: 2 }] }, 'a.b'), undefined);
  t.equal(claimAt({ a: { b: 2 } }, 'a.c'), undefined);
  t.equal(claimAt({}, 'constructor'), undefined, 'no prototype members');
});

t.test('gateway session identity', async (t) => {
  const keys = await loadOrCreateKeySet(join(t.testdir({}), 'k.json'));
  const v = new TokenVerifier([gatewaySource(keys).rules]);
  const m = await mintSessionToken(
    keys,
    { sub: 'alice', email: 'a@corp.example', name: 'Alice', groups: ['staff'], idp: 'corp', amr: ['pwd', 'mfa'], iss: 'evil', jti: 'mine', locale: 'fr' },
    3600_000,
  );
  t.not(m.jti, 'mine', 'reserved claims cannot be overridden');
  const r = await v.verify(m.token);
  if (!r.ok) throw new Error(r.reason);
  t.match(r.identity, {
    kind: 'session',
    sessionId: m.jti,
    subject: 'alice',
    email: 'a@corp.example',
    name: 'Alice',
    groups: ['staff'],
    idp: 'corp',
    amr: ['pwd', 'mfa'],
    issuer: 'gatehouse',
    issuedAt: m.issuedAt,
    expiresAt: m.expiresAt,
  });
  t.equal(r.identity.claims.locale, 'fr');
  t.equal(m.expiresAt - m.issuedAt, 3600);
});

t.test('HMAC issuer', async (t) => {
  const secret = 'an HMAC secret of at least 32 bytes!!';
  const src = externalSource(issuerConfig({ issuer: 'https://hs.test', secret, algorithms: ['HS256'], groupsClaim: 'roles' }));
  await src.start();
  t.equal(src.status().ready, true);
  const v = new TokenVerifier([src.rules]);
  const sign = (s: string, alg = 'HS256') =>
    new SignJWT({ roles: 'a,b' })
      .setProtectedHeader({ alg })
      .setIssuer('https://hs.test')
      .setAudience('gatehouse')
      .setSubject('svc')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(s));
  const ok = await v.verify(await sign(secret));
  t.equal(ok.ok && ok.identity.groups.join('|'), 'a|b');
  t.match(await v.verify(await sign('another secret of at least 32 bytes!!')), { ok: false, reason: 'bad_signature' });
  t.match(await v.verify(await sign(secret, 'HS512')), { ok: false, reason: 'alg_not_allowed' });
});

t.test('keys come only from the issuer: embedded jwk, jku and x5u are ignored', async (t) => {
  const sso = await testKey();
  const attacker = await testKey();
  // The attacker publishes their key at a URL and points the token at it.
  const evilJwks = await startJwksServer(t, [attacker.publicJwk]);
  const src = externalSource(issuerConfig({ issuer: 'https://sso.test', jwksFile: '/nonexistent' }));
  // A key set holding only the issuer's key, through the same rules a file would give.
  const v = new TokenVerifier([{ ...src.rules, key: (await import('jose')).createLocalJWKSet({ keys: [sso.publicJwk] }) }]);

  const forged = await signToken(attacker, { iss: 'https://sso.test' }, { kid: sso.kid, jwk: attacker.publicJwk, jku: evilJwks.url, x5u: evilJwks.url });
  // jose's EmbeddedJWK WOULD accept it — proof the token is "valid" by its own header's say-so.
  await jwtVerify(forged, EmbeddedJWK);
  t.match(await v.verify(forged), { ok: false, reason: 'bad_signature' });
  const noKid = await signToken(attacker, { iss: 'https://sso.test' }, { kid: undefined, jwk: attacker.publicJwk });
  t.match(await v.verify(noKid), { ok: false, reason: 'bad_signature' });
  t.equal(evilJwks.requests, 0, 'jku/x5u were never fetched');

  // A missing JWKS file fails closed.
  await src.start();
  t.match(src.status(), { ready: false, lastError: /nonexistent/ });
  const v2 = new TokenVerifier([src.rules]);
  t.match(await v2.verify(await signToken(sso, { iss: 'https://sso.test' })), { ok: false, reason: 'keys_unavailable' });
});

t.test('clock tolerance', async (t) => {
  const sso = await testKey();
  const src = externalSource(issuerConfig({ issuer: 'https://sso.test', clockToleranceSec: 30 }));
  const v = new TokenVerifier([{ ...src.rules, key: (await import('jose')).createLocalJWKSet({ keys: [sso.publicJwk] }) }]);
  const within = await signToken(sso, { iss: 'https://sso.test', iat: nowSec() + 20, nbf: nowSec() + 20, exp: nowSec() - 10 + 60 });
  t.equal((await v.verify(within)).ok, true, 'iat/nbf 20 s ahead is within 30 s tolerance');
  const expiredWithin = await signToken(sso, { iss: 'https://sso.test', iat: nowSec() - 100, exp: nowSec() - 10 });
  t.equal((await v.verify(expiredWithin)).ok, true, 'exp 10 s ago is within tolerance');
  const beyond = await signToken(sso, { iss: 'https://sso.test', iat: nowSec() + 45 });
  t.match(await v.verify(beyond), { ok: false, reason: 'not_yet_valid' });
  t.match(await v.verify(within, Date.now() + 3600_000), { ok: false, reason: 'expired' }, 'an injected clock is honoured');
});

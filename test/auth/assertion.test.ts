import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { ASSERTION_TTL_SEC, AssertionSigner, headerSafe } from '../../src/auth/assertion.js';
import { generateKeyFile, loadOrCreateKeySet, type SigningAlgorithm } from '../../src/auth/keys.js';
import { serviceIdentity } from '../../src/auth/service-tokens.js';
import type { Identity } from '../../src/policy/types.js';

const now = Date.now();
const identity = (over: Partial<Identity> = {}): Identity => ({
  kind: 'session',
  sessionId: 'sess-1',
  subject: 'alice',
  email: 'alice@corp.example',
  name: 'Alice',
  groups: ['staff', 'dev'],
  amr: ['pwd', 'mfa'],
  idp: 'corp',
  issuer: 'gatehouse',
  claims: {},
  issuedAt: Math.floor(now / 1000) - 60,
  expiresAt: Math.floor(now / 1000) + 3600,
  ...over,
});

t.test('the assertion verifies against the published JWKS (jose)', async (t) => {
  const keys = await loadOrCreateKeySet(join(t.testdir({}), 'k.json'));
  const signer = new AssertionSigner(keys);
  const token = signer.sign(identity(), 'wiki');
  t.type(token, 'string', 'synchronous');
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys.publicJwks), {
    issuer: 'gatehouse',
    audience: 'wiki',
    algorithms: ['ES256'],
  });
  t.same(protectedHeader, { alg: 'ES256', kid: keys.signingKey.kid, typ: 'JWT' });
  t.match(payload, { sub: 'alice', email: 'alice@corp.example', name: 'Alice', groups: ['staff', 'dev'], amr: ['pwd', 'mfa'], idp: 'corp', sid: 'sess-1' });
  t.ok((payload.exp as number) - (payload.iat as number) <= ASSERTION_TTL_SEC, 'exp ≤ 5 min');
  await t.rejects(jwtVerify(token, createLocalJWKSet(keys.publicJwks), { audience: 'grafana' }), 'audience is the app');

  const short = signer.sign(identity({ sessionId: 's2', expiresAt: Math.floor(now / 1000) + 30 }), 'wiki');
  const p2 = (await jwtVerify(short, createLocalJWKSet(keys.publicJwks))).payload;
  t.equal(p2.exp, Math.floor(now / 1000) + 30, 'never outlives the identity');

  const svc = signer.sign(serviceIdentity('ci', now, now + 60_000), 'wiki');
  t.match((await jwtVerify(svc, createLocalJWKSet(keys.publicJwks))).payload, { sub: 'ci', service_token: 'ci', sid: 'svc:ci' });
});

t.test('every signing algorithm produces what jose verifies', async (t) => {
  const dir = t.testdir({});
  for (const alg of ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'] as SigningAlgorithm[]) {
    const file = join(dir, `${alg}.json`);
    // PS256 signs with the RS256 file's RSA key (the same kind of key, only its alg differs):
    // one 3,072-bit RSA key generated instead of two, most of this file's CPU.
    if (alg === 'PS256') writeFileSync(file, readFileSync(join(dir, 'RS256.json'), 'utf8').replaceAll('"RS256"', '"PS256"'));
    else await generateKeyFile(file, alg);
    const keys = await loadOrCreateKeySet(file);
    const token = new AssertionSigner(keys).sign(identity(), 'wiki');
    t.equal(decodeProtectedHeader(token).alg, alg);
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.publicJwks), { algorithms: [alg] });
    t.equal(payload.sub, 'alice', alg);
  }
});

t.test('cached per identity and audience until a minute before expiry', async (t) => {
  const keys = await loadOrCreateKeySet(join(t.testdir({}), 'k.json'));
  const signer = new AssertionSigner(keys, { maxEntries: 2 });
  const who = identity();
  const a = signer.sign(who, 'wiki', now);
  t.equal(signer.sign(who, 'wiki', now + 1000), a, 'same identity, same audience: cached');
  t.equal(signer.signatures, 1);
  t.not(signer.sign(who, 'grafana', now), a, 'another audience: another assertion');
  t.equal(signer.signatures, 2);
  t.not(signer.sign(who, 'wiki', now + (ASSERTION_TTL_SEC - 59) * 1000), a, 'refreshed within the last minute');
  t.equal(signer.signatures, 3);

  // Another identity object with the same session id (another issuer's jti, say) never gets it.
  const imposter = identity({ subject: 'mallory', issuer: 'gatehouse' });
  const m = signer.sign(imposter, 'wiki', now);
  const { payload } = await jwtVerify(m, createLocalJWKSet(keys.publicJwks));
  t.equal(payload.sub, 'mallory');

  const nearEnd = identity({ sessionId: 'x', expiresAt: Math.floor(now / 1000) + 30 });
  signer.sign(nearEnd, 'wiki', now);
  const n = signer.signatures;
  signer.sign(nearEnd, 'wiki', now);
  t.equal(signer.signatures, n + 1, 'an assertion with under a minute left is not cached');
});

t.test('headerSafe', async (t) => {
  t.equal(headerSafe('alice@corp.example'), 'alice@corp.example');
  t.equal(headerSafe('staff,dev ops'), 'staff,dev ops');
  t.equal(headerSafe('Zoë'), 'Zoë', 'Latin-1 passes');
  t.equal(headerSafe('a\r\nX-Gatehouse-User-Email: admin@corp.example'), 'a%0D%0AX-Gatehouse-User-Email%3A%20admin%40corp.example');
  t.equal(headerSafe('nul\0'), 'nul%00');
  t.equal(headerSafe('李雷'), '%E6%9D%8E%E9%9B%B7', 'outside Latin-1: percent-encoded');
  t.equal(headerSafe('😀'), '%F0%9F%98%80');
  t.equal(headerSafe('\ud800'), null, 'a lone surrogate cannot be encoded: dropped, no throw');
  t.equal(headerSafe(undefined as unknown as string), null);
  t.equal(headerSafe(''), '');
});

t.test('one signature per identity × app: identities that say the same share it (counted)', async (t) => {
  const keys = await loadOrCreateKeySet(join(t.testdir({}), 'k.json'));
  const signer = new AssertionSigner(keys);
  // The same token verified again (a cache eviction) is a new identity object saying the same thing.
  const a = signer.sign(identity(), 'wiki', now);
  t.equal(signer.sign(identity(), 'wiki', now + 1000), a, 'an equal identity reuses the signature');
  t.equal(signer.sign(identity({ claims: { other: 1 } }), 'wiki', now + 2000), a, 'claims that are not signed do not matter');
  t.equal(signer.signatures, 1, 'one signature');
  for (let i = 0; i < 50; i++) signer.upstream(identity(), 'wiki', true, now + 3000 + i);
  t.equal(signer.signatures, 1, '50 more identity objects, cached or not: still one');

  signer.sign(identity({ sessionId: 'sess-2' }), 'wiki', now);
  t.equal(signer.signatures, 2, 'another session: its own (the assertion carries sid)');
  signer.sign(identity({ groups: ['staff'] }), 'wiki', now);
  t.equal(signer.signatures, 3, 'other groups: another');
  signer.sign(identity(), 'grafana', now);
  t.equal(signer.signatures, 4, 'another app: another');

  // Never past the identity's own exp: a shorter-lived identity gets its own, shorter assertion.
  const short = signer.sign(identity({ expiresAt: Math.floor(now / 1000) + 120 }), 'wiki', now);
  t.equal(signer.signatures, 5);
  t.equal((await jwtVerify(short, createLocalJWKSet(keys.publicJwks))).payload.exp, Math.floor(now / 1000) + 120);

  // Near expiry it is signed again, once, and shared again.
  const later = now + (ASSERTION_TTL_SEC - 59) * 1000;
  const b = signer.sign(identity(), 'wiki', later);
  t.not(b, a);
  t.equal(signer.sign(identity(), 'wiki', later + 10), b);
  t.equal(signer.signatures, 6);

  // Unsigned (jwt_assertion: false) never signs.
  const n = signer.signatures;
  const plain = signer.upstream(identity({ sessionId: 'sess-3' }), 'plain', false, now);
  t.equal(plain.assertion, null);
  t.equal(plain.email, 'alice@corp.example');
  t.equal(signer.signatures, n);

  // Two apps with one audience, only one signed: the unsigned one never gets the other's assertion,
  // and neither entry evicts the other.
  const one = identity({ sessionId: 'sess-4' });
  const signedUp = signer.upstream(one, 'shared', true, now);
  t.type(signedUp.assertion, 'string');
  t.equal(signer.upstream(one, 'shared', false, now).assertion, null, 'jwt_assertion: false gets no assertion');
  t.equal(signer.upstream(one, 'shared', true, now).assertion, signedUp.assertion, 'the signed one is still cached');
  t.equal(signer.upstream(one, 'shared', false, now).assertion, null);
  t.equal(signer.signatures, n + 1, 'one signature for both apps');
});

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Authenticator, type AuthResult } from '../../src/auth/authenticator.js';
import { generateKeyFile, loadOrCreateKeySet, type KeyResolver, type KeySet } from '../../src/auth/keys.js';
import { hashSecret } from '../../src/auth/password.js';
import { RevocationSet } from '../../src/auth/revocations.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import type { ServiceTokenConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log.js';
import { gatewayConfig, issuerConfig, signToken, testKey } from './helpers.js';

/** A key set whose resolver counts how often verification asked for a key. */
function counting(keys: KeySet): KeySet & { calls: () => number } {
  let n = 0;
  const verifyKeys: KeyResolver = (h, tok) => {
    n++;
    return keys.verifyKeys(h, tok);
  };
  return { ...keys, verifyKeys, calls: () => n };
}

const user = { sub: 'alice', email: 'alice@corp.example', groups: ['staff'], idp: 'local', amr: ['pwd'] };

async function setup(t: Test, over: Parameters<typeof gatewayConfig>[0] = {}) {
  const dir = t.testdir({});
  const keys = counting(await loadOrCreateKeySet(join(dir, 'keys.json')));
  const revocations = new RevocationSet();
  const config = gatewayConfig({ cookie: 'gh', ...over });
  const auth = await Authenticator.create(config, keys, revocations, silentLogger);
  t.teardown(() => auth.close());
  return { dir, keys, revocations, config, auth };
}

const sync = (r: AuthResult | Promise<AuthResult>): AuthResult => {
  if (r instanceof Promise) throw new Error('expected a synchronous answer');
  return r;
};

t.test('a cache hit answers synchronously with no signature work', async (t) => {
  const { keys, auth } = await setup(t);
  const m = await mintSessionToken(keys, user, 3600_000);
  const headers = { cookie: `gh=${m.token}` };

  const first = auth.authenticate(headers, 'wiki');
  t.ok(first instanceof Promise, 'a miss verifies asynchronously');
  t.match(await first, { ok: true, source: 'cookie', cacheHit: false, identity: { sessionId: m.jti, subject: 'alice' } });
  t.equal(keys.calls(), 1);

  let hits = 0;
  for (let i = 0; i < 100; i++) {
    const r = sync(auth.authenticate(headers, 'wiki'));
    if (r.ok && r.cacheHit) hits++;
  }
  t.equal(hits, 100, 'every repeat is a synchronous cache hit');
  t.equal(keys.calls(), 1, '100 hits, no key lookup, no signature verification');
  const same = sync(auth.authenticate({ authorization: `Bearer ${m.token}` }, 'wiki'));
  t.match(same, { ok: true, source: 'bearer', cacheHit: true }, 'the cache is keyed by token, not by where it came from');
  t.match(auth.cacheStats(), { hits: 101, misses: 1, entries: 1 });

  t.same(sync(auth.authenticate({}, 'wiki')), { ok: false, reason: 'token_missing', tokenSent: false }, 'no credential: synchronous');
  t.match(sync(auth.authenticate({ cookie: `gh=${m.token}`, authorization: 'Bearer x.y.z' }, 'wiki')), { reason: 'conflicting_credentials' });
});

t.test('failures are not cached; a burst of one new token verifies once', async (t) => {
  const { keys, auth } = await setup(t);
  const expired = await mintSessionToken(keys, user, -60_000);
  for (let i = 0; i < 3; i++) t.match(await auth.authenticate({ authorization: `Bearer ${expired.token}` }, 'wiki'), { ok: false, reason: 'expired' });
  t.equal(keys.calls(), 3, 'each failure was verified again');
  t.equal(auth.cacheStats().entries, 0);

  const m = await mintSessionToken(keys, user, 3600_000);
  const results = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate({ authorization: `Bearer ${m.token}` }, 'wiki')));
  t.ok(results.every((r) => r.ok));
  t.equal(keys.calls(), 4, '20 concurrent requests, one verification');
});

t.test('expiry: a cached identity is never served at or after exp', async (t) => {
  const { keys, auth } = await setup(t);
  const now = Date.now();
  const m = await mintSessionToken(keys, user, 30_000, now);
  const h = { cookie: `gh=${m.token}` };
  t.match(await auth.authenticate(h, 'wiki', now), { ok: true });
  t.match(sync(auth.authenticate(h, 'wiki', m.expiresAt * 1000 - 1)), { ok: true, cacheHit: true }, 'served until exp');
  const at = auth.authenticate(h, 'wiki', m.expiresAt * 1000 + 10_000);
  t.ok(at instanceof Promise, 'past exp the cache does not answer');
  t.match(await at, { ok: false, reason: 'expired' });
});

t.test('revocation refuses a cached identity on its next request', async (t) => {
  const { keys, auth, revocations } = await setup(t);
  const m = await mintSessionToken(keys, user, 3600_000);
  const other = await mintSessionToken(keys, user, 3600_000);
  const h = { cookie: `gh=${m.token}` };
  await auth.authenticate(h, 'wiki');
  await auth.authenticate({ cookie: `gh=${other.token}` }, 'wiki');
  t.match(sync(auth.authenticate(h, 'wiki')), { ok: true, cacheHit: true });

  const events: unknown[] = [];
  revocations.on('revoked', (e) => events.push(e));
  revocations.revokeSession(m.jti);
  t.match(sync(auth.authenticate(h, 'wiki')), { ok: false, reason: 'revoked', tokenSent: true, identity: { sessionId: String } }, 'refused, with whose session it was (for the audit)');
  t.match(sync(auth.authenticate({ cookie: `gh=${other.token}` }, 'wiki')), { ok: true }, 'other sessions unaffected');
  t.same(events, [{ sessionId: m.jti }]);

  // App-wide cutoff: sessions issued before it must log in again for that app only.
  revocations.revokeAppBefore('wiki', Date.now() + 1000);
  t.match(sync(auth.authenticate({ cookie: `gh=${other.token}` }, 'wiki')), { ok: false, reason: 'revoked' });
  t.match(sync(auth.authenticate({ cookie: `gh=${other.token}` }, 'grafana')), { ok: true });
  const fresh = await mintSessionToken(keys, user, 3600_000, Date.now() + 5000);
  t.match(await auth.authenticate({ cookie: `gh=${fresh.token}` }, 'wiki', Date.now() + 5000), { ok: true }, 'a session issued after the cutoff passes');

  // Revoked on a miss too.
  const third = await mintSessionToken(keys, user, 3600_000);
  revocations.revokeSession(third.jti);
  t.match(await auth.authenticate({ cookie: `gh=${third.token}` }, 'grafana'), { ok: false, reason: 'revoked' });
});

t.test('service tokens', async (t) => {
  const fast = { N: 1024, r: 8, p: 1 };
  const tokens: ServiceTokenConfig[] = [
    { name: 'ci', clientId: 'ci-client.access', secretHash: await hashSecret('ci-secret', fast) },
    { name: 'old', clientId: 'old-client.access', secretHash: await hashSecret('old-secret', fast), expiresAt: Date.now() - 1000 },
    { name: 'soon', clientId: 'soon-client.access', secretHash: await hashSecret('soon-secret', fast), expiresAt: Date.now() + 60_000 },
  ];
  const { auth, config, keys } = await setup(t, { serviceTokens: tokens });
  const svc = (id: string, secret: string) => ({ 'gatehouse-client-id': id, 'gatehouse-client-secret': secret });

  const first = auth.authenticate(svc('ci-client.access', 'ci-secret'), 'wiki');
  t.ok(first instanceof Promise);
  const r = await first;
  t.match(r, {
    ok: true,
    source: 'service_token',
    cacheHit: false,
    identity: { kind: 'service', subject: 'ci', serviceToken: 'ci', sessionId: 'svc:ci', issuer: 'service_token', groups: [], amr: [] },
  });
  t.match(sync(auth.authenticate(svc('ci-client.access', 'ci-secret'), 'wiki')), { ok: true, cacheHit: true }, 'cached: no scrypt per request');

  t.match(await auth.authenticate(svc('ci-client.access', 'wrong'), 'wiki'), { ok: false, reason: 'bad_signature', tokenSent: true });
  t.match(await auth.authenticate(svc('nobody.access', 'ci-secret'), 'wiki'), { ok: false, reason: 'bad_signature' });
  t.match(await auth.authenticate(svc('ci-client.access', ''), 'wiki'), { ok: false, reason: 'bad_signature' });
  t.match(await auth.authenticate(svc('old-client.access', 'old-secret'), 'wiki'), { ok: false, reason: 'expired' });
  t.match(await auth.authenticate(svc('old-client.access', 'wrong'), 'wiki'), { ok: false, reason: 'bad_signature' }, 'expiry is no oracle without the secret');

  const soon = await auth.authenticate(svc('soon-client.access', 'soon-secret'), 'wiki');
  t.ok(soon.ok);
  t.match(await auth.authenticate(svc('soon-client.access', 'soon-secret'), 'wiki', Date.now() + 61_000), { ok: false, reason: 'expired' }, 'cache entry ends at the token expiry');

  // App cutoffs do not apply to service tokens; revoking by id does.
  const revocations = (auth as unknown as { revocations: RevocationSet }).revocations;
  revocations.revokeAppBefore('wiki', Date.now() + 10_000);
  t.match(sync(auth.authenticate(svc('ci-client.access', 'ci-secret'), 'wiki')), { ok: true });
  revocations.revokeSession('svc:ci');
  t.match(sync(auth.authenticate(svc('ci-client.access', 'ci-secret'), 'wiki')), { ok: false, reason: 'revoked' });

  // Reload without the token: its cached identity goes.
  await auth.update({ ...config, serviceTokens: tokens.slice(1) }, keys);
  t.match(await auth.authenticate(svc('ci-client.access', 'ci-secret'), 'wiki'), { ok: false, reason: 'bad_signature' });
});

t.test('reload keeps the cache unless issuers or keys changed', async (t) => {
  const { auth, config, keys, dir } = await setup(t);
  const m = await mintSessionToken(keys, user, 3600_000);
  const h = { cookie: `gh=${m.token}` };
  await auth.authenticate(h, 'wiki');

  await auth.update({ ...config, hash: 'changed-elsewhere' }, keys);
  t.match(sync(auth.authenticate(h, 'wiki')), { ok: true, cacheHit: true }, 'unrelated change: cache kept');

  const sso = await testKey();
  const jwksFile = join(dir, 'sso.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [sso.publicJwk] }));
  const withIssuer = { ...config, tokenIssuers: [issuerConfig({ issuer: 'https://sso.test', jwksFile })] };
  await auth.update(withIssuer, keys);
  const after = auth.authenticate(h, 'wiki');
  t.ok(after instanceof Promise, 'issuers changed: cache cleared');
  t.match(await after, { ok: true });
  t.match(await auth.authenticate({ authorization: `Bearer ${await signToken(sso, { iss: 'https://sso.test' })}` }, 'wiki'), { ok: true }, 'the new issuer works');
  t.same(
    auth.status().map((s) => [s.issuer, s.ready]),
    [
      ['https://sso.test', true],
      ['gatehouse', true],
    ],
  );
  t.equal(auth.ready(), true);

  // Key rotation (keys generate --append, then reload): old sessions keep working, cache rebuilt.
  await generateKeyFile(keys.file, 'ES256', { append: true });
  const rotated = await loadOrCreateKeySet(keys.file);
  await auth.update(withIssuer, rotated);
  t.ok(auth.authenticate(h, 'wiki') instanceof Promise, 'keys changed: cache cleared');
  t.match(await auth.authenticate(h, 'wiki'), { ok: true }, 'a session from the old key still verifies');
  const m2 = await mintSessionToken(rotated, user, 3600_000);
  t.match(await auth.authenticate({ cookie: `gh=${m2.token}` }, 'wiki'), { ok: true });

  // Cache size settings changed: a new cache.
  await auth.update({ ...withIssuer, session: { ...withIssuer.session, cache: { maxEntries: 5, maxBytes: 1 << 20, maxTtlMs: 1000 } } }, rotated);
  t.match(auth.cacheStats(), { entries: 0, maxEntries: 5 });
});

t.test('an external issuer with a key matching no file', async (t) => {
  const { auth } = await setup(t, { tokenIssuers: [issuerConfig({ issuer: 'https://nofile.test', jwksFile: '/nonexistent/jwks.json' })] });
  t.equal(auth.ready(), false);
  t.match(auth.status()[0], { issuer: 'https://nofile.test', ready: false, lastError: /nonexistent/ });
});

t.test('a new token the fast path can decide is answered synchronously, revocation and expiry included', async (t) => {
  const { keys, auth, revocations } = await setup(t);
  const first = await mintSessionToken(keys, user, 3600_000);
  const a = auth.authenticate({ cookie: `gh=${first.token}` }, 'wiki');
  t.ok(a instanceof Promise, "the issuer's first token goes through jose (its key is not known yet)");
  t.match(await a, { ok: true, cacheHit: false });
  const calls = keys.calls();

  const now = Date.now();
  const m = await mintSessionToken(keys, user, 60_000, now);
  const h = { cookie: `gh=${m.token}` };
  t.match(sync(auth.authenticate(h, 'wiki', now)), { ok: true, cacheHit: false, identity: { sessionId: m.jti } }, 'a new token: synchronous');
  t.equal(keys.calls(), calls, 'no key lookup: the key jose chose is remembered');
  t.match(sync(auth.authenticate(h, 'wiki', now)), { ok: true, cacheHit: true }, 'and cached');
  t.match(auth.cacheStats(), { entries: 2 });

  const tampered = `${m.token.slice(0, -4)}${m.token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  t.match(sync(auth.authenticate({ cookie: `gh=${tampered}` }, 'wiki', now)), { ok: false, reason: 'bad_signature' }, 'a bad signature: refused synchronously');

  const r = await mintSessionToken(keys, user, 3600_000, now);
  revocations.revokeSession(r.jti);
  t.match(sync(auth.authenticate({ cookie: `gh=${r.token}` }, 'wiki', now)), { ok: false, reason: 'revoked' }, 'revoked on the fast path too');

  const late = auth.authenticate(h, 'wiki', m.expiresAt * 1000 + 10_000);
  t.ok(late instanceof Promise, 'past exp: neither the cache nor the fast path answers');
  t.match(await late, { ok: false, reason: 'expired' });
  t.equal(auth.cacheStats().entries, 2, 'failures are not cached');
});

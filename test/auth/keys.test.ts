import t from 'tap';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { generateKeyFile, loadKeySet, loadOrCreateKeySet } from '../../src/auth/keys.js';
import { mintSessionToken } from '../../src/auth/session-token.js';

const claims = { sub: 'u1', groups: [], idp: 'local', amr: ['pwd'] };

t.test('creates a key file with mode 0600 in a new directory, then reloads the same key', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'deep', 'keys', 'session.jwks.json');
  const ks = await loadOrCreateKeySet(file);
  const st = await stat(file);
  t.equal(st.mode & 0o777, 0o600, 'file mode 0600');
  t.equal(ks.signingKey.alg, 'ES256');
  t.match(ks.signingKey.kid, /^[\w-]{43}$/, 'kid is a SHA-256 thumbprint');
  const onDisk = JSON.parse(await readFile(file, 'utf8'));
  t.equal(onDisk.keys.length, 1);
  t.type(onDisk.keys[0].d, 'string', 'the file holds the private key');
  t.equal(ks.publicJwks.keys.length, 1);
  t.notOk('d' in (ks.publicJwks.keys[0] as object), 'published keys carry no private part');
  t.same(ks.algorithms, ['ES256']);

  const again = await loadOrCreateKeySet(file);
  t.equal(again.signingKey.kid, ks.signingKey.kid, 'reloading keeps the key');
});

t.test('concurrent first starts agree on one key', async (t) => {
  const file = join(t.testdir({}), 'keys.json');
  const sets = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateKeySet(file)));
  t.equal(new Set(sets.map((s) => s.signingKey.kid)).size, 1);
});

t.test('rotation: the newest key signs, tokens from the old key still verify', async (t) => {
  const file = join(t.testdir({}), 'keys.json');
  const first = await generateKeyFile(file);
  t.equal(first.keys, 1);
  const before = await loadOrCreateKeySet(file);
  const old = await mintSessionToken(before, claims, 60_000);

  await t.rejects(generateKeyFile(file), /--rotate/, 'no silent overwrite');
  const second = await generateKeyFile(file, 'ES256', { append: true });
  t.equal(second.keys, 2);
  t.not(second.kid, first.kid);
  t.equal((await stat(file)).mode & 0o777, 0o600, 'still 0600 after rotation');

  const after = await loadOrCreateKeySet(file);
  t.equal(after.signingKey.kid, second.kid, 'newest (last) key signs');
  t.equal(after.publicJwks.keys.length, 2);
  const fresh = await mintSessionToken(after, claims, 60_000);

  for (const token of [old.token, fresh.token]) {
    const { payload, protectedHeader } = await jwtVerify(token, after.verifyKeys, { issuer: 'gatehouse', audience: 'gatehouse' });
    t.equal(payload.sub, 'u1');
    t.ok([first.kid, second.kid].includes(protectedHeader.kid as string));
  }
  // The published JWKS verifies both as well (what apps and /.gatehouse/certs see).
  const published = createLocalJWKSet(after.publicJwks);
  await jwtVerify(old.token, published);
  await jwtVerify(fresh.token, published);
});

t.test('other algorithms, and refusals', async (t) => {
  const dir = t.testdir({});
  const ed = join(dir, 'ed.json');
  await generateKeyFile(ed, 'EdDSA');
  const ks = await loadOrCreateKeySet(ed);
  t.equal(ks.signingKey.alg, 'EdDSA');
  const m = await mintSessionToken(ks, claims, 60_000);
  await jwtVerify(m.token, ks.verifyKeys);

  await t.rejects(generateKeyFile(join(dir, 'hs.json'), 'HS256'), /unsupported algorithm/);
  await t.rejects(generateKeyFile(join(dir, 'none.json'), 'none'), /unsupported algorithm/);

  const bad = join(dir, 'bad.json');
  await writeFile(bad, 'not json');
  await t.rejects(loadOrCreateKeySet(bad), /not JSON/);
  await writeFile(bad, JSON.stringify({ keys: [] }));
  await t.rejects(loadOrCreateKeySet(bad), /at least one key/);
  await writeFile(bad, JSON.stringify({ keys: [ks.publicJwks.keys[0]] }));
  await t.rejects(loadOrCreateKeySet(bad), /private JWK/, 'a public key cannot sign');
});

t.test('a key set signs with jose directly too', async (t) => {
  const ks = await loadOrCreateKeySet(join(t.testdir({}), 'k.json'));
  const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: ks.signingKey.alg, kid: ks.signingKey.kid }).sign(ks.signingKey.key);
  const { payload } = await jwtVerify(token, ks.verifyKeys);
  t.equal(payload.a, 1);
});

t.test('a rotated key with activates_at verifies at once and signs only from then on', async (t) => {
  const file = join(t.testdir({}), 'keys.json');
  const first = await generateKeyFile(file);
  const activateAt = Date.now() + 600_000;
  const second = await generateKeyFile(file, 'ES256', { append: true, activateAt });
  const onDisk = JSON.parse(await readFile(file, 'utf8')) as { keys: Array<{ kid: string; activates_at?: number }> };
  t.equal(onDisk.keys[1]?.activates_at, Math.ceil(activateAt / 1000), 'the file says when');

  const now = await loadKeySet(file);
  t.equal(now.signingKey.kid, first.kid, 'the old key still signs during the rollout');
  t.equal(now.nextActivation, Math.ceil(activateAt / 1000) * 1000, 'and the reload time is known');
  t.same(now.privateKeys.map((k) => k.kid), [first.kid, second.kid]);
  t.notOk(JSON.stringify(now.publicJwks).includes('activates_at'), 'not published');
  const later = await loadKeySet(file, activateAt + 1000);
  t.equal(later.signingKey.kid, second.kid, 'the new key signs once active');
  t.equal(later.nextActivation, null);
  // Both verify with either set: a token from either side of the rollout passes everywhere.
  for (const signer of [now, later]) {
    const m = await mintSessionToken(signer, claims, 60_000);
    for (const verifier of [now, later]) await jwtVerify(m.token, verifier.verifyKeys);
  }
  await writeFile(file, JSON.stringify({ keys: [{ ...onDisk.keys[0], activates_at: 'soon' }] }));
  await t.rejects(loadKeySet(file), /activates_at.*epoch seconds/);
});

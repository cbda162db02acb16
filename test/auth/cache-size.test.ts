// The verified-token cache's byte estimate must be an UPPER bound of the heap its entries really
// hold, or session.cache.max_bytes would not bound memory. Measured here, not assumed: fill a cache
// with identities built the way the gateway builds them (JSON.parse of the payload, then
// identityFromClaims), force a full GC, and compare heapUsed with the cache's own byte count, for
// ordinary tokens and for claim shapes chosen to be as dense in heap objects as JSON allows.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { estimateSize, TokenCache, tokenKey } from '../../src/auth/cache.js';
import { identityFromClaims, type IssuerRules } from '../../src/auth/verify.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const rules = { kind: 'token', issuer: 'https://sso.example.test', emailClaim: 'email', groupsClaim: 'groups' } as unknown as IssuerRules;
const iat = Math.floor(Date.now() / 1000);
const exp = iat + 3600;
const base = (i: number) => ({ iss: rules.issuer, aud: 'gatehouse', iat, exp, sub: `user-${i}` });
const range = (n: number) => Array.from({ length: n }, (_, k) => k);

// Claims with many names are built with Object.assign, not spread into a literal: V8 spreads an
// object of 300 properties into a new literal in ~10 ms (4,000 of them: most of this file's time,
// over 2 minutes on a busy machine). The payload text is the same either way.
const MANY_PROPERTIES = Object.fromEntries(range(300).map((k) => [`p${k}`, true]));

const SHAPES: Record<string, (i: number) => unknown> = {
  typical: (i) => ({ ...base(i), groups: ['staff'], email: `user${i}@corp.example`, jti: `jti-${i}` }),
  'no jti, no email': (i) => base(i),
  'many groups': (i) => ({ ...base(i), email: `u${i}@corp.example`, name: `User ${i}`, amr: ['pwd', 'mfa'], groups: range(60).map((g) => `g-${g}-${i}`) }),
  'unique claim names': (i) => Object.assign(base(i), Object.fromEntries(range(40).map((k) => [`k${i}_${k}`, 1]))),
  'arrays of empty objects': (i) => ({ ...base(i), a: range(100).map(() => ({})) }),
  'arrays of empty arrays': (i) => ({ ...base(i), a: range(100).map(() => []) }),
  'objects with unique names': (i) => ({ ...base(i), a: range(60).map((k) => ({ [`x${i}`]: k })) }),
  doubles: (i) => ({ ...base(i), a: range(50).map((k) => k + i + 0.5), b: i + 0.25 }),
  'small integers and nulls': (i) => ({ ...base(i), a: range(100).map(() => 0), b: range(100).map(() => null) }),
  'two-byte strings': (i) => ({ ...base(i), name: '张伟'.repeat(20) + i, email: `用户${i}@corp.example` }),
  'many properties': (i) => Object.assign(base(i), MANY_PROPERTIES),
  nested: (i) => {
    let o: unknown = { leaf: i };
    for (let k = 0; k < 25; k++) o = { a: o };
    return { ...base(i), n: o };
  },
};

t.test('the estimate bounds the real heap use of an entry', async (t) => {
  const N = 4000;
  for (const [name, shape] of Object.entries(SHAPES)) {
    // The payload text is what jose parses; built before measuring so only the cache's share counts.
    const payloads = range(N).map((i) => JSON.stringify(shape(i)));
    const keys = payloads.map((p, i) => tokenKey(`${p}.${i}`));
    const cache = new TokenCache({ maxEntries: N, maxBytes: 2 ** 40, maxTtlMs: 3_600_000 });
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const now = Date.now();
    for (let i = 0; i < N; i++) cache.set(keys[i]!, identityFromClaims(rules, JSON.parse(payloads[i]!), payloads[i]!), now);
    gc();
    gc();
    const real = (process.memoryUsage().heapUsed - before) / N;
    const estimated = cache.stats().bytes / N;
    t.equal(cache.size, N, `${name}: all cached`);
    t.ok(estimated >= real, `${name}: estimated ${estimated.toFixed(0)} B ≥ real ${real.toFixed(0)} B per entry`);
    cache.clear();
  }
});

// What the estimate costs is measured by bench/cache-estimate.mjs: a speed is no test assertion.
t.test('the estimate charges runaway nesting as too big', async (t) => {
  const id = identityFromClaims(rules, JSON.parse(JSON.stringify(SHAPES.typical!(1))), 'x');
  const key = tokenKey('x');
  t.ok(estimateSize(key, id) > 0);

  let deep: unknown = 1;
  for (let k = 0; k < 100; k++) deep = [deep];
  const cache = new TokenCache({ maxEntries: 10, maxBytes: 1 << 30, maxTtlMs: 60_000 });
  cache.set(key, identityFromClaims(rules, { ...base(1), deep }, 'x'), Date.now());
  t.equal(cache.size, 0, 'not cached');
});

t.test('identical identities share their lists, and a flood identity fits 100,000 in 64 MiB', async (t) => {
  const mk = (i: number) => identityFromClaims(rules, JSON.parse(JSON.stringify(SHAPES.typical!(i))), `t${i}`);
  const a = mk(1);
  const b = mk(2);
  t.equal(a.groups, b.groups, 'one groups array for both');
  t.equal(a.claims.groups, a.groups, "the claims' groups are that array too");
  t.same(a.groups, ['staff']);
  t.ok(Object.isFrozen(a.groups));
  t.equal(a.amr, b.amr, 'one (empty) amr list');
  // Lists with anything but non-empty strings keep what the token said; the identity's list is filtered.
  const odd = identityFromClaims(rules, { ...base(3), groups: ['a', '', 7] }, 'x');
  t.same(odd.claims.groups, ['a', '', 7]);
  t.same(odd.groups, ['a']);
  const size = estimateSize(tokenKey('x'), mk(3));
  t.ok(size * 100_000 <= 64 * 2 ** 20, `estimated ${size} B per typical identity: 100,000 fit in the default 64 MiB`);
});

t.test('sharing never changes what the claims say', async (t) => {
  const payload = `{"__proto__":["x"],"iss":"${rules.issuer}","aud":["gatehouse","other"],"sub":"u","iat":${iat},"exp":${exp},"roles":["a","b"],"amr":"pwd mfa","groups":"staff, dev"}`;
  const id = identityFromClaims(rules, JSON.parse(payload), 'x');
  t.same(JSON.parse(JSON.stringify(id.claims)), JSON.parse(payload), 'the same JSON');
  t.equal(Object.getPrototypeOf(id.claims), Object.prototype, 'an own __proto__ claim stays a claim');
  t.same(id.groups, ['staff', 'dev'], 'a string list claim');
  t.same(id.amr, ['pwd', 'mfa']);
  const again = identityFromClaims(rules, JSON.parse(payload), 'y');
  t.equal(again.claims.roles, id.claims.roles, 'lists pooled');
  t.equal(again.groups, id.groups);
});

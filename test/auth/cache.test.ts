import t from 'tap';
import { estimateSize, serviceKey, TokenCache, tokenKey } from '../../src/auth/cache.js';
import type { Identity } from '../../src/policy/types.js';
import { sleep } from './helpers.js';

function identity(i: number, expiresAt: number, extra: Record<string, unknown> = {}): Identity {
  return {
    kind: 'token',
    sessionId: `s${i}`,
    subject: `user-${i}`,
    email: `user-${i}@corp.example`,
    groups: ['staff', 'dev'],
    amr: ['pwd'],
    issuer: 'https://sso.test',
    claims: { sub: `user-${i}`, ...extra },
    issuedAt: Math.floor(Date.now() / 1000),
    expiresAt,
  };
}

t.test('keys are digests, never the token', async (t) => {
  const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
  const k = tokenKey(token);
  t.match(k, /^[\w-]{43}$/);
  t.notOk(k.includes(token));
  t.equal(tokenKey(token), k, 'stable');
  t.not(serviceKey('id', 'secret'), serviceKey('id', 'secreT'));
  t.match(serviceKey('id', 'secret'), /^s:[\w-]{43}$/);
});

t.test('TTL is min(exp − now, max_ttl)', async (t) => {
  const now = Date.now();
  const cache = new TokenCache({ maxEntries: 100, maxBytes: 1 << 20, maxTtlMs: 60_000 });
  const soon = identity(1, Math.floor(now / 1000) + 2);
  cache.set('a', soon, now);
  t.equal(cache.get('a', now)?.subject, 'user-1');
  t.equal(cache.get('a', soon.expiresAt * 1000), undefined, 'not served at exp (injected clock)');
  t.equal(cache.size, 0, 'and dropped');

  const later = identity(2, Math.floor(now / 1000) + 3600);
  cache.set('b', later, now);
  t.ok(cache.get('b', now + 59_000));
  t.equal(cache.get('b', now + 60_000), undefined, 'capped by max_ttl');

  cache.set('c', identity(3, Math.floor(now / 1000) - 1), now);
  t.equal(cache.size, 0, 'an already-expired identity is not cached');

  // Real time: the LRU's own TTL expires the entry too.
  const quick = new TokenCache({ maxEntries: 10, maxBytes: 1 << 20, maxTtlMs: 80 });
  quick.set('q', later, Date.now());
  t.ok(quick.get('q', Date.now()));
  await sleep(120);
  t.equal(quick.get('q', Date.now()), undefined, 'expired by the LRU clock');
});

t.test('bounded by bytes and by entries under a flood of distinct entries', async (t) => {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const maxBytes = 256 * 1024;
  const cache = new TokenCache({ maxEntries: 1_000_000, maxBytes, maxTtlMs: 600_000 });
  const now = Date.now();
  for (let i = 0; i < 20_000; i++) cache.set(tokenKey(`token-${i}`), identity(i, exp, { pad: 'x'.repeat(i % 500) }), now);
  const s = cache.stats();
  t.ok(s.bytes <= maxBytes, `bytes ${s.bytes} ≤ ${maxBytes}`);
  t.ok(s.entries < 20_000 && s.entries > 50, `entries ${s.entries}`);
  t.ok(s.evictions >= 20_000 - s.entries, 'evictions counted');
  t.ok(estimateSize('k', identity(1, exp)) > 300, 'the estimate is not optimistic');

  const byCount = new TokenCache({ maxEntries: 100, maxBytes: 1 << 30, maxTtlMs: 600_000 });
  for (let i = 0; i < 1000; i++) byCount.set(`k${i}`, identity(i, exp), now);
  t.equal(byCount.size, 100);

  const tiny = new TokenCache({ maxEntries: 10, maxBytes: 1024, maxTtlMs: 600_000 });
  tiny.set('huge', identity(1, exp, { pad: 'x'.repeat(10_000) }), now);
  t.equal(tiny.size, 0, 'an entry bigger than the budget is not cached');
});

t.test('counters, deleteWhere, clear', async (t) => {
  const now = Date.now();
  const exp = Math.floor(now / 1000) + 3600;
  const cache = new TokenCache({ maxEntries: 10, maxBytes: 1 << 20, maxTtlMs: 60_000 });
  cache.set('a', identity(1, exp), now);
  cache.set('b', { ...identity(2, exp), kind: 'service' }, now);
  cache.get('a', now);
  cache.get('zzz', now);
  t.match(cache.stats(), { hits: 1, misses: 1, entries: 2, maxEntries: 10 });
  t.equal(cache.deleteWhere((i) => i.kind === 'service'), 1);
  t.equal(cache.size, 1);
  cache.delete('a');
  cache.set('c', identity(3, exp), now);
  cache.clear();
  t.equal(cache.size, 0);
});

// Cache density: how many verified identities the token cache holds in its default bound, and what
// one really costs the heap. Tokens are the token flood's (bench/token-flood.mjs: HS256, an external
// issuer, distinct sub/email/jti, groups [staff]); each is verified by the gateway's own TokenVerifier
// and inserted as the authenticator does. Real bytes per entry = heapUsed growth after full GCs
// (process.memoryUsage) / entries held; the estimate is the cache's own byte count / entries. The
// estimate must stay >= the real figure (test/auth/cache-size.test.ts asserts that for many shapes).
// Deterministic apart from V8's heap accounting; needs `npm run build` first.
//   node --expose-gc bench/cache-density.mjs [--count 100000] [--max-bytes 67108864] [--max-entries 100000]
import { benchArgs } from './lib/args.mjs';
import { randomBytes } from 'node:crypto';
import { hs256Minter } from './lib/mint.mjs';
import { TokenCache, tokenKey } from '../dist/auth/cache.js';
import { TokenVerifier } from '../dist/auth/verify.js';
import { DEFAULTS } from '../dist/config/resolve-gateway.js';

const { values: o } = benchArgs(import.meta.url, {
  count: { type: 'string', default: '100000' },
  'max-bytes': { type: 'string' },
  'max-entries': { type: 'string' },
});
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const N = Number(o.count);
const bound = { ...DEFAULTS.cache };
if (o['max-bytes']) bound.maxBytes = Number(o['max-bytes']);
if (o['max-entries']) bound.maxEntries = Number(o['max-entries']);
const issuer = 'https://sso.bench.test';
const secret = randomBytes(48).toString('base64url');
const verifier = new TokenVerifier([
  { issuer, kind: 'token', key: new Uint8Array(Buffer.from(secret)), algorithms: ['HS256'], audience: ['gatehouse-bench'], clockToleranceSec: 30, groupsClaim: 'groups', emailClaim: 'email' },
]);
const mint = hs256Minter(secret, { iss: issuer, aud: 'gatehouse-bench' }, randomBytes(3).toString('hex'));
// Tokens are minted before measuring so that only what the cache keeps is counted.
const tokens = Array.from({ length: N }, (_, i) => mint(i));
const cache = new TokenCache(bound);
// Warm the verifier (its first token goes through jose, interning starts) outside the measurement.
await verifier.verify(mint(N + 1));

const settle = () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const before = settle();
const now = Date.now();
let t0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  const r = await verifier.verify(tokens[i], now);
  if (!r.ok) throw new Error(`token ${i}: ${r.reason}`);
  cache.set(tokenKey(tokens[i]), r.identity, now);
}
const cpu = process.cpuUsage(t0);
const after = settle();
const s = cache.stats();
const real = (after - before) / s.entries;
const est = s.bytes / s.entries;
const perEntry = { realBytes: Math.round(real), estimatedBytes: Math.round(est), entries: s.entries, bound };
console.log(`inserted ${N.toLocaleString()} HS256 flood identities; cache holds ${s.entries.toLocaleString()} in ${bound.maxEntries.toLocaleString()} entries / ${(bound.maxBytes / 2 ** 20).toFixed(0)} MiB`);
console.log(`real heap per entry ${real.toFixed(0)} B (heapUsed +${((after - before) / 2 ** 20).toFixed(1)} MiB) · estimated ${est.toFixed(0)} B · estimate/real ${(est / real).toFixed(2)}`);
console.log(`identities the byte bound alone would hold at this estimate: ${Math.floor(bound.maxBytes / est).toLocaleString()}`);
console.log(`verify + insert CPU: ${(((cpu.user + cpu.system) / N)).toFixed(1)} µs per token`);
console.log('CDJSON ' + JSON.stringify(perEntry));
if (tokens.length < 0) console.log(tokens[0]); // keep tokens alive through the measurement

// Micro-benchmark: what the verified-token cache's byte estimate (estimateSize) costs per entry.
// It runs once per cache insert, i.e. on the cold path only; moved here from the unit tests, which
// assert that the estimate is an upper bound, not how fast it is. Needs `npm run build` first.
//   node bench/cache-estimate.mjs [--iterations 200000]
import { benchArgs } from './lib/args.mjs';
import { estimateSize, tokenKey } from '../dist/auth/cache.js';
import { identityFromClaims } from '../dist/auth/verify.js';

const { values } = benchArgs(import.meta.url, { iterations: { type: 'string', default: '200000' } });
const N = Number(values.iterations);
const rules = { kind: 'token', issuer: 'https://sso.example.test', emailClaim: 'email', groupsClaim: 'groups' };
const iat = Math.floor(Date.now() / 1000);
const claims = { iss: rules.issuer, aud: 'gatehouse', iat, exp: iat + 3600, sub: 'user-1', groups: ['staff'], email: 'user1@corp.example', jti: 'jti-1' };
const identity = identityFromClaims(rules, JSON.parse(JSON.stringify(claims)), 'x');
const key = tokenKey('x');

let sum = 0;
for (let i = 0; i < N / 10; i++) sum += estimateSize(key, identity); // warm-up
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) sum += estimateSize(key, identity);
const ns = Number(process.hrtime.bigint() - t0) / N;
console.log(`estimateSize, typical token: ${(ns / 1000).toFixed(2)} µs per estimate (${N} iterations; ${sum > 0 ? 'ok' : 'zero?'})`);

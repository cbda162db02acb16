// The gateway's own work for a never-seen token, in one process, as CPU µs per token: what
// Authenticator does on a miss (TokenVerifier.verifyNow: the node:crypto fast path, identity,
// cache insert) and the upstream assertion for the new identity (AssertionSigner.upstream, one
// ES256 signature), against the node:crypto floor (crypto.verify / HMAC on the same key and token).
// CPU time, not wall time, so it holds on a busy machine better than request rates. The request
// itself (parsing, routing, forwarding, the session record) is bypass's cost, measured by bench/run.js.
// Needs `npm run build` first.
//   node bench/cold-path.mjs [--count 20000] [--algs HS256,ES256,RS256,EdDSA]
import { benchArgs } from './lib/args.mjs';
import { createHmac, createPublicKey, createSecretKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hs256Minter, issuerKey, mintTokens } from './lib/mint.mjs';
import { TokenCache, tokenKey } from '../dist/auth/cache.js';
import { TokenVerifier } from '../dist/auth/verify.js';
import { AssertionSigner } from '../dist/auth/assertion.js';
import { loadOrCreateKeySet } from '../dist/auth/keys.js';
import { DEFAULTS } from '../dist/config/resolve-gateway.js';
import { createLocalJWKSet } from 'jose';

const { values: o } = benchArgs(import.meta.url, { count: { type: 'string', default: '20000' }, algs: { type: 'string', default: 'HS256,ES256,RS256,EdDSA' } });
const N = Number(o.count);
const ISS = 'https://issuer.bench.test';
const AUD = 'gatehouse-bench';
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cold-'));
const gatewayKeys = await loadOrCreateKeySet(join(dir, 'session.jwks.json'));
const cpu = (f, n) => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
};
const split = (t) => {
  const d = t.lastIndexOf('.');
  return [Buffer.from(t.slice(0, d), 'latin1'), Buffer.from(t.slice(d + 1), 'base64url')];
};

const rows = [];
for (const alg of o.algs.split(',')) {
  let rules;
  let tokens;
  let floor;
  const base = { issuer: ISS, kind: 'token', algorithms: [alg], audience: [AUD], clockToleranceSec: 30, groupsClaim: 'groups', emailClaim: 'email' };
  if (alg === 'HS256') {
    const secret = randomBytes(48).toString('base64url');
    rules = { ...base, key: new Uint8Array(Buffer.from(secret)) };
    const mint = hs256Minter(secret, { iss: ISS, aud: AUD });
    tokens = Array.from({ length: N + 2 }, (_, i) => mint(i));
    const k = createSecretKey(Buffer.from(secret));
    floor = (t) => { const [d, s] = split(t); return createHmac('sha256', k).update(d).digest().equals(s); };
  } else {
    const k = issuerKey(alg);
    const jwks = createLocalJWKSet({ keys: [k.publicJwk] });
    rules = { ...base, key: jwks };
    tokens = await mintTokens({ alg, privateJwk: k.privateJwk, kid: k.kid, claims: { iss: ISS, aud: AUD }, count: N + 2 });
    const pub = createPublicKey({ key: k.publicJwk, format: 'jwk' });
    floor =
      alg === 'ES256' ? (t) => { const [d, s] = split(t); return cryptoVerify('sha256', d, { key: pub, dsaEncoding: 'ieee-p1363' }, s); }
      : alg === 'RS256' ? (t) => { const [d, s] = split(t); return cryptoVerify('sha256', d, pub, s); }
      : (t) => { const [d, s] = split(t); return cryptoVerify(null, d, pub, s); };
  }
  const verifier = new TokenVerifier([rules]);
  // The first token goes through jose (a JWKS key is remembered after jose's first success).
  const first = await verifier.verify(tokens[N + 1]);
  if (!first.ok) throw new Error(`${alg}: ${first.reason}`);
  const cache = new TokenCache(DEFAULTS.cache);
  const signer = new AssertionSigner(gatewayKeys);
  const now = Date.now();
  const W = Math.min(2000, Math.floor(N / 5));
  cpu((i) => floor(tokens[i]), W); // warm-up (JIT)
  const floorUs = cpu((i) => floor(tokens[W + i]), Math.min(N - W, 5000));
  const authUs = cpu((i) => {
    const t = tokens[i];
    const key = tokenKey(t);
    const r = verifier.verifyNow(t, now);
    if (r === undefined || !r.ok) throw new Error(`${alg}: token ${i} not on the fast path (${r?.reason ?? 'jose'})`);
    cache.set(key, r.identity, now);
  }, N);
  const ids = [];
  for (let i = 0; i < N; i++) ids.push(cache.get(tokenKey(tokens[i]), now));
  const signUs = cpu((i) => signer.upstream(ids[i], 'allow.bench.test', true, now), N);
  // The same identities again: cached, no signature (what a cache-hit request pays for its headers).
  const againUs = cpu((i) => signer.upstream(ids[N - 1 - (i % 1000)], 'allow.bench.test', true, now), N);
  if (signer.signatures !== N) throw new Error(`${alg}: ${signer.signatures} signatures for ${N} new identities`);
  rows.push({ alg, floorUs, authUs, signUs, againUs, fast: verifier.counts.fast, jose: verifier.counts.jose });
}
rmSync(dir, { recursive: true, force: true });
console.log('| alg | node:crypto floor µs | verify + identity + cache insert µs | over the floor | × floor | assertion (new identity, ES256) µs |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.alg} | ${r.floorUs.toFixed(1)} | ${r.authUs.toFixed(1)} | ${(r.authUs - r.floorUs).toFixed(1)} | ${(r.authUs / r.floorUs).toFixed(2)} | ${r.signUs.toFixed(1)} |`);
}
console.log('CPJSON ' + JSON.stringify(rows));

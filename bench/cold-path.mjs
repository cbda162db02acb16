// The gateway's own work for a never-seen token, in one process, as CPU µs per token: what
// Authenticator does on a miss (TokenVerifier.verifyNow: the node:crypto fast path, identity,
// cache insert), the upstream assertion for the new identity (AssertionSigner.upstream, one
// signature with the gateway's key) and the session record (queued, then written to SQLite),
// against the node:crypto floor (crypto.verify / HMAC on the same key and token). CPU time, not
// wall time, so it holds on a busy machine better than request rates. The request itself (parsing,
// routing, forwarding) is bypass's cost, measured by bench/run.js.
// Needs `npm run build` first.
//   node bench/cold-path.mjs [--count 20000] [--algs HS256,ES256,RS256,EdDSA] [--assertion-alg ES256|EdDSA|…]
import { benchArgs } from './lib/args.mjs';
import { createHmac, createPublicKey, createSecretKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hs256Minter, issuerKey, mintTokens } from './lib/mint.mjs';
import { TokenCache, tokenKey } from '../dist/auth/cache.js';
import { TokenVerifier } from '../dist/auth/verify.js';
import { AssertionSigner } from '../dist/auth/assertion.js';
import { generateJwk, keySetFromJwks } from '../dist/auth/keys.js';
import { DEFAULTS } from '../dist/config/resolve-gateway.js';
import { createLocalJWKSet } from 'jose';
import { sessionUpsert } from '../dist/audit/recorder.js';
import { RecordWriter } from '../dist/audit/writer.js';
import { openSqliteStore } from '../dist/store/sqlite/store.js';

const { values: o } = benchArgs(import.meta.url, { count: { type: 'string', default: '20000' }, algs: { type: 'string', default: 'HS256,ES256,RS256,EdDSA' }, 'assertion-alg': { type: 'string', default: 'ES256' } });
const N = Number(o.count);
const ISS = 'https://issuer.bench.test';
const AUD = 'gatehouse-bench';
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cold-'));
// The gateway's own key signs the assertions: ES256 by default, or what `gatehouse keys generate --alg` made.
const gatewayKeys = keySetFromJwks(join(dir, 'session.jwks.json'), [await generateJwk(o['assertion-alg'])]);
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

// The audit's share of a new session (what Recorder.allowed does on a cache miss): building the
// session record and queueing it with the request's activity (queueUs, on the request), then the
// batching writer's SQLite transaction (storeUs, every ≤100 ms, same thread), in batches of 500.
const store = await openSqliteStore(join(dir, 'audit.db'));
const silent = { info() {}, warn() {}, error() {}, debug() {} };
const ctx = {
  req: { headers: { 'user-agent': 'wrk' } },
  facts: { certificate: undefined, country: null },
  clientIp: '127.0.0.1',
  config: { audit: { redactClaims: [] } },
};
async function recordCost(alg, ids, now) {
  const writer = new RecordWriter(store, { queueLimit: 1_000_000, maxBatchRecords: 1000, flushIntervalMs: 100, recordAllowed: 'aggregate', logger: silent });
  let queueUs = 0;
  let storeUs = 0;
  for (let from = 0; from < ids.length; from += 500) {
    const n = Math.min(500, ids.length - from);
    queueUs += cpu((i) => {
      const id = ids[from + i];
      writer.session(sessionUpsert(id, ctx, now));
      writer.activity(id.sessionId, 'allow.bench.test', '/', now);
    }, n) * n;
    const c0 = process.cpuUsage();
    await writer.flush();
    const c = process.cpuUsage(c0);
    storeUs += c.user + c.system;
  }
  await writer.close();
  return { queueUs: queueUs / ids.length, storeUs: storeUs / ids.length, alg };
}

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
  const { queueUs, storeUs } = await recordCost(alg, ids, now);
  rows.push({ alg, floorUs, authUs, signUs, againUs, queueUs, storeUs, fast: verifier.counts.fast, jose: verifier.counts.jose });
}
await store.close?.();
rmSync(dir, { recursive: true, force: true });
console.log(`| alg | node:crypto floor µs | verify + identity + cache insert µs | over the floor | × floor | assertion (new identity, ${gatewayKeys.signingKey.alg}) µs | session record queued µs | session + activity SQLite write µs |`);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.alg} | ${r.floorUs.toFixed(1)} | ${r.authUs.toFixed(1)} | ${(r.authUs - r.floorUs).toFixed(1)} | ${(r.authUs / r.floorUs).toFixed(2)} | ${r.signUs.toFixed(1)} | ${r.queueUs.toFixed(1)} | ${r.storeUs.toFixed(1)} |`);
}
console.log('CPJSON ' + JSON.stringify(rows));

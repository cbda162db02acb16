// Micro-benchmark: jose jwtVerify with a local JWKS (as the gateway verifies external issuers'
// tokens), ES256 / RS256 (2048) / EdDSA, each token distinct. Run as its own process; prints
// `JVJSON {...}` with, per algorithm, sequential ops/s (one verification at a time), concurrent ops/s
// (32 in flight: jose's WebCrypto work overlaps on libuv threads) and CPU µs per verification.
// Beside jose, the node:crypto floor: crypto.verify (createHmac for HS256) on the same key and the
// same tokens, nothing else — the verification cost no JWT library can go under. The cold-path
// target is taken against it (bench/run.js: cold CPU/req − bypass CPU/req ≤ 1.3 × the floor).
//   node bench/jose-verify.mjs [--ms 1000] [--algs ES256,RS256,EdDSA,HS256]
import { benchArgs } from './lib/args.mjs';
import { createHmac, createPublicKey, createSecretKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { hs256Minter, issuerKey, mintTokens } from './lib/mint.mjs';
import { performance } from 'node:perf_hooks';

const { values } = benchArgs(import.meta.url, { ms: { type: 'string', default: '1000' }, algs: { type: 'string', default: 'ES256,RS256,EdDSA' } });
const budgetMs = Number(values.ms);
const out = {};
/** The floor: one node:crypto verification of the token's signature, with a KeyObject made once. */
function floorOf(alg, key) {
  const parts = (t) => {
    const d = t.lastIndexOf('.');
    return [Buffer.from(t.slice(0, d), 'latin1'), Buffer.from(t.slice(d + 1), 'base64url')];
  };
  if (alg === 'HS256') return (t) => { const [data, sig] = parts(t); return createHmac('sha256', key).update(data).digest().equals(sig); };
  if (alg === 'ES256') return (t) => { const [data, sig] = parts(t); return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig); };
  if (alg === 'RS256') return (t) => { const [data, sig] = parts(t); return cryptoVerify('sha256', data, key, sig); };
  return (t) => { const [data, sig] = parts(t); return cryptoVerify(null, data, key, sig); };
}

for (const alg of values.algs.split(',')) {
  const claims = { iss: 'https://issuer.bench.test', aud: 'gatehouse-bench' };
  let jwks;
  let tokens;
  let floorKey;
  if (alg === 'HS256') {
    const secret = randomBytes(48).toString('base64url');
    jwks = new Uint8Array(Buffer.from(secret));
    floorKey = createSecretKey(Buffer.from(secret));
    const mint = hs256Minter(secret, claims);
    tokens = Array.from({ length: 4000 }, (_, i) => mint(i));
  } else {
    const k = issuerKey(alg);
    jwks = createLocalJWKSet({ keys: [k.publicJwk] });
    floorKey = createPublicKey({ key: k.publicJwk, format: 'jwk' });
    tokens = await mintTokens({ alg, privateJwk: k.privateJwk, kid: k.kid, claims, count: alg === 'RS256' ? 2000 : 4000 });
  }
  const opts = { issuer: claims.iss, audience: claims.aud, algorithms: [alg], requiredClaims: ['exp', 'iat', 'sub'], clockTolerance: 30 };
  let i = 0;
  const next = () => tokens[i++ % tokens.length];
  const warmEnd = performance.now() + 250;
  while (performance.now() < warmEnd) await jwtVerify(next(), jwks, opts); // warm-up (JIT)

  // Sequential.
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < budgetMs / 2) {
    await jwtVerify(next(), jwks, opts);
    n++;
  }
  let ms = performance.now() - t0;
  let c = process.cpuUsage(c0);
  const seq = { opsPerSec: (n / ms) * 1000, cpuUsPerOp: (c.user + c.system) / n };

  // 32 in flight.
  c0 = process.cpuUsage();
  t0 = performance.now();
  n = 0;
  const end = t0 + budgetMs / 2;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        await jwtVerify(next(), jwks, opts);
        n++;
      }
    }),
  );
  ms = performance.now() - t0;
  c = process.cpuUsage(c0);
  const conc = { opsPerSec: (n / ms) * 1000, cpuUsPerOp: (c.user + c.system) / n };
  // The node:crypto floor, sequential (it is synchronous).
  const floor = floorOf(alg, floorKey);
  for (let w = 0; w < 300; w++) if (!floor(next())) throw new Error(`${alg}: the floor check refused a valid token`);
  c0 = process.cpuUsage();
  t0 = performance.now();
  n = 0;
  while (performance.now() - t0 < budgetMs / 2) {
    floor(next());
    n++;
  }
  ms = performance.now() - t0;
  c = process.cpuUsage(c0);
  const nodeCrypto = { opsPerSec: (n / ms) * 1000, cpuUsPerOp: (c.user + c.system) / n };
  out[alg] = { sequential: seq, concurrent32: conc, nodeCrypto };
}
process.stdout.write(`JVJSON ${JSON.stringify(out)}\n`);

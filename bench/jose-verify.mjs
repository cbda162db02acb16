// Micro-benchmark: jose jwtVerify with a local JWKS (as the gateway verifies external issuers'
// tokens), ES256 / RS256 (2048) / EdDSA, each token distinct. Run as its own process; prints
// `JVJSON {...}` with, per algorithm, sequential ops/s (one verification at a time), concurrent ops/s
// (32 in flight: jose's WebCrypto work overlaps on libuv threads) and CPU µs per verification.
//   node bench/jose-verify.mjs [--ms 1000] [--algs ES256,RS256,EdDSA]
import { benchArgs } from './lib/args.mjs';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { issuerKey, mintTokens } from './lib/mint.mjs';
import { performance } from 'node:perf_hooks';

const { values } = benchArgs(import.meta.url, { ms: { type: 'string', default: '1000' }, algs: { type: 'string', default: 'ES256,RS256,EdDSA' } });
const budgetMs = Number(values.ms);
const out = {};
for (const alg of values.algs.split(',')) {
  const k = issuerKey(alg);
  const jwks = createLocalJWKSet({ keys: [k.publicJwk] });
  const claims = { iss: 'https://issuer.bench.test', aud: 'gatehouse-bench' };
  const tokens = await mintTokens({ alg, privateJwk: k.privateJwk, kid: k.kid, claims, count: alg === 'RS256' ? 2000 : 4000 });
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
  out[alg] = { sequential: seq, concurrent32: conc };
}
process.stdout.write(`JVJSON ${JSON.stringify(out)}\n`);

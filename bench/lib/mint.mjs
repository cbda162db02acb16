// Token minting for the benchmarks, fast enough to pre-mint tens of thousands of distinct tokens:
// node:crypto signs directly (no jose per token), spread over worker threads for the slow
// algorithms (RS256 signs ~1,500/s per core).
import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, sign, createPublicKey } from 'node:crypto';
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const b64u = (s) => Buffer.from(s).toString('base64url');

/** A fresh issuer key pair for alg (ES256, RS256 2048-bit, EdDSA/Ed25519), as JWKs with a kid. */
export function issuerKey(alg) {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : alg === 'EdDSA'
          ? generateKeyPairSync('ed25519')
          : null;
  if (!pair) throw new Error(`unsupported alg ${alg}`);
  const kid = `bench-${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  const publicJwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  const privateJwk = { ...pair.privateKey.export({ format: 'jwk' }), kid, alg };
  return { alg, kid, publicJwk, privateJwk };
}

function signer(alg, privateJwk) {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  if (alg === 'ES256') return (data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'RS256') return (data) => sign('sha256', data, key);
  if (alg === 'EdDSA') return (data) => sign(null, data, key);
  throw new Error(`unsupported alg ${alg}`);
}

/**
 * Tokens [from, from+count) for one issuer key: every token distinct (sub, jti), groups [staff].
 * claims: { iss, aud, email?, groups?, ttlSec? }.
 */
function mintRange(alg, privateJwk, kid, claims, from, count, tag) {
  const s = signer(alg, privateJwk);
  const header = b64u(JSON.stringify({ alg, kid, typ: 'JWT' }));
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + (claims.ttlSec ?? 3600);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = from + i;
    const payload = {
      iss: claims.iss,
      aud: claims.aud,
      sub: `${tag}-${n}`,
      email: claims.email ?? `user${n}@corp.example`,
      groups: claims.groups ?? ['staff'],
      iat,
      exp,
      jti: `${tag}-${n}`,
    };
    const data = `${header}.${b64u(JSON.stringify(payload))}`;
    out[i] = `${data}.${s(Buffer.from(data)).toString('base64url')}`;
  }
  return out;
}

/** Mints `count` distinct tokens, in parallel worker threads when count is large. */
export async function mintTokens({ alg, privateJwk, kid, claims, count, tag = `${alg}-${randomBytes(3).toString('hex')}` }) {
  const threads = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
  if (count < 4000 || threads === 1) return mintRange(alg, privateJwk, kid, claims, 0, count, tag);
  const per = Math.ceil(count / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const from = t * per;
      const n = Math.max(0, Math.min(per, count - from));
      return new Promise((resolve, reject) => {
        const w = new Worker(new URL(import.meta.url), { workerData: { mint: true, alg, privateJwk, kid, claims, from, count: n, tag } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    }),
  );
  return parts.flat();
}

if (!isMainThread && workerData?.mint) {
  const { alg, privateJwk, kid, claims, from, count, tag } = workerData;
  parentPort.postMessage(mintRange(alg, privateJwk, kid, claims, from, count, tag));
}

/**
 * HS256 minter for floods: i → a distinct valid token, ~5 µs each. claims: { iss, aud, ttlSec? }.
 */
export function hs256Minter(secret, claims, tag = randomBytes(3).toString('hex')) {
  const header = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const key = Buffer.from(secret);
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + (claims.ttlSec ?? 3600);
  const prefix = `{"iss":${JSON.stringify(claims.iss)},"aud":${JSON.stringify(claims.aud)},"groups":["staff"],"iat":${iat},"exp":${exp},"sub":"${tag}-`;
  return (i) => {
    const data = `${header}.${b64u(`${prefix}${i}","email":"flood${i}@corp.example","jti":"${tag}-${i}"}`)}`;
    return `${data}.${createHmac('sha256', key).update(data).digest('base64url')}`;
  };
}

export { createPublicKey };

// One token, one spelling, one session: base64url decoders ignore the unused bits of a part's last
// character, and an ECDSA signature verifies in its high-S form too. Without care a holder could
// re-spell a jti-less token whose session an admin revoked and be let in as a new session.
import t from 'tap';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createLocalJWKSet, exportJWK } from 'jose';
import { TokenVerifier, type IssuerRules } from '../../src/auth/verify.js';

const ISS = 'https://idp.spelling.test';
const now = Date.now();
const sec = Math.floor(now / 1000);
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** P-256's group order: s and n − s are both valid signatures of the same message. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const resolver = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
const rules: IssuerRules = { issuer: ISS, kind: 'token', key: resolver, algorithms: ['ES256'], audience: ['app'], clockToleranceSec: 30, groupsClaim: 'groups', emailClaim: 'email', keysVersion: () => resolver } as IssuerRules;
const data = `${b64({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${b64({ iss: ISS, aud: 'app', sub: 'alice', iat: sec, exp: sec + 3600 })}`;
const sig = sign('sha256', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' });
const original = `${data}.${sig.toString('base64url')}`;

t.test('a re-spelled signature (unused bits set) is malformed, on the fast path and through jose', async (t) => {
  const v = new TokenVerifier([rules]);
  const ok = await v.verify(original, now);
  t.equal(ok.ok, true, 'the original verifies');
  const text = sig.toString('base64url');
  t.equal(text.length % 4, 2, 'a 64-byte signature leaves 4 unused bits in its last character');
  const last = A.indexOf(text.at(-1) as string);
  for (let bits = 1; bits < 16; bits++) {
    const respelled = `${data}.${text.slice(0, -1)}${A[last ^ bits]}`;
    t.match(v.verifyNow(respelled, now), { ok: false, reason: 'token_malformed' }, `unused bits ${bits}: refused before any decoding`);
    t.match(await new TokenVerifier([rules]).verify(respelled, now), { ok: false, reason: 'token_malformed' }, `unused bits ${bits}: refused on a cold verifier too`);
  }
  const payload = data.split('.')[1] as string;
  t.match(v.verifyNow(`${data.split('.')[0]}.${payload}A.${text}`, now), { ok: false, reason: 'token_malformed' }, 'a part with a lone trailing character');
});

t.test('the high-S form of the signature verifies, and is the same session', async (t) => {
  const s = BigInt('0x' + sig.subarray(32).toString('hex'));
  const highS = Buffer.concat([sig.subarray(0, 32), Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex')]);
  const other = `${data}.${highS.toString('base64url')}`;
  t.not(other, original);
  const v = new TokenVerifier([rules]);
  const a = await v.verify(original, now);
  const b = await v.verify(other, now);
  t.ok(a.ok && b.ok, 'both verify (ECDSA allows it; jose does too)');
  if (a.ok && b.ok) t.equal(b.identity.sessionId, a.identity.sessionId, 'one session id: revoking it refuses both spellings');
});

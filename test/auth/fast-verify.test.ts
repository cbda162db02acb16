// The node:crypto fast path (src/auth/fast-verify.ts) against jose, token by token: after a valid
// token has taught the verifier its issuer's key, every hostile token — crafted here byte by byte and
// signed with the right key unless the point is the signature — must get exactly the answer jose
// gives with the issuer's options (toTokenReason of jose's error, or success with the same claims).
import t, { type Test } from 'tap';
import { createHmac, createSecretKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createLocalJWKSet, exportJWK, jwtVerify, type JWK } from 'jose';
import { peekIssuer, toTokenReason, TokenVerifier, type IssuerRules } from '../../src/auth/verify.js';

const ISS = 'https://sso.fast.test';
const now = Date.now();
const sec = Math.floor(now / 1000);
const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ iss: ISS, aud: 'gatehouse', sub: 'alice', iat: sec - 10, exp: sec + 600, ...over });

type Signer = (data: string) => string;
const hs = (secret: Buffer, hash = 'sha256'): Signer => (d) => createHmac(hash, secret).update(d).digest('base64url');

function token(header: unknown, payload: unknown, signer: Signer, rawPayload?: string): string {
  const data = `${b64(header)}.${rawPayload ?? b64(payload)}`;
  return `${data}.${signer(data)}`;
}

/** What jose says about a token with the issuer's options (the verifier's own jose call). */
async function joseSays(rules: IssuerRules, tok: string, key: Uint8Array | ReturnType<typeof createLocalJWKSet>): Promise<string> {
  try {
    const { payload } = await jwtVerify(tok, key as Uint8Array, {
      issuer: rules.issuer,
      audience: rules.audience,
      algorithms: rules.algorithms,
      clockTolerance: rules.clockToleranceSec,
      requiredClaims: ['exp', 'iat', 'sub'],
      maxTokenAge: Number.MAX_SAFE_INTEGER,
      currentDate: new Date(now),
    });
    return typeof payload.sub === 'string' && payload.sub !== '' ? 'ok' : 'token_malformed';
  } catch (err) {
    return toTokenReason(err);
  }
}

const oneMod4 = (s: string): string => (s.length % 4 === 1 ? s : oneMod4(s + 'A'));

function hostile(alg: string, kid: string | undefined, good: Signer, other: Signer): Array<[string, string]> {
  const h = kid === undefined ? { alg, typ: 'JWT' } : { alg, kid, typ: 'JWT' };
  const cases: Array<[string, string]> = [
    ['valid', token(h, claims(), good)],
    ['expired', token(h, claims({ exp: sec - 100 }), good)],
    ['expired within tolerance', token(h, claims({ exp: sec - 5 }), good)],
    ['exp exactly now', token(h, claims({ exp: sec }), good)],
    ['exp a string', token(h, claims({ exp: String(sec + 600) }), good)],
    ['exp huge (Infinity)', token(h, null, good, b64(`{"iss":"${ISS}","aud":"gatehouse","sub":"a","iat":${sec},"exp":1e400}`))],
    ['no exp', token(h, { ...claims(), exp: undefined }, good)],
    ['no iat', token(h, { ...claims(), iat: undefined }, good)],
    ['iat in the future', token(h, claims({ iat: sec + 100 }), good)],
    ['iat a string', token(h, claims({ iat: 'now' }), good)],
    ['nbf in the future', token(h, claims({ nbf: sec + 100 }), good)],
    ['nbf within tolerance', token(h, claims({ nbf: sec + 5 }), good)],
    ['nbf a string', token(h, claims({ nbf: 'x' }), good)],
    ['no sub', token(h, { ...claims(), sub: undefined }, good)],
    ['empty sub', token(h, claims({ sub: '' }), good)],
    ['numeric sub', token(h, claims({ sub: 7 }), good)],
    ['other audience', token(h, claims({ aud: 'someone-else' }), good)],
    ['audience list with ours', token(h, claims({ aud: ['x', 'gatehouse'] }), good)],
    ['audience list without ours', token(h, claims({ aud: ['x', 'y'] }), good)],
    ['no aud', token(h, { ...claims(), aud: undefined }, good)],
    ['numeric aud', token(h, claims({ aud: 1 }), good)],
    ['bad signature', token(h, claims(), other)],
    ['signature of another token', `${b64(h)}.${b64(claims({ sub: 'mallory' }))}.${token(h, claims(), good).split('.')[2]}`],
    ['empty signature', `${b64(h)}.${b64(claims())}.`],
    ['signature length 1 mod 4', `${token(h, claims(), good)}A`],
    ['alg none', token({ alg: 'none' }, claims(), () => '')],
    ['an alg not pinned', token({ ...h, alg: alg === 'HS256' ? 'HS384' : 'RS256' }, claims(), good)],
    ['crit header', token({ ...h, crit: ['exp'] }, claims(), good)],
    ['b64 false', token({ ...h, b64: false, crit: ['b64'] }, claims(), good)],
    ['embedded jwk header', token({ ...h, jwk: { kty: 'oct', k: 'AAAA' } }, claims(), good)],
    ['jku header', token({ ...h, jku: 'http://127.0.0.1:9/jwks' }, claims(), good)],
    ['numeric typ', token({ ...h, typ: 1 }, claims(), good)],
    ['numeric kid', token({ ...h, kid: 5 }, claims(), good)],
    ['unknown kid', token({ ...h, kid: 'nobody' }, claims(), good)],
    ['header not JSON', token('not json', claims(), good)],
    ['header an array', token([alg], claims(), good)],
    ['payload not JSON', token(h, null, good, b64('nope'))],
    ['payload an array', token(h, [claims()], good)],
    ['payload with a BOM', token(h, null, good, b64('\ufeff' + JSON.stringify(claims())))],
    ['payload not UTF-8', token(h, null, good, Buffer.concat([Buffer.from(JSON.stringify(claims()).slice(0, -1) + ',"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]).toString('base64url'))],
    ['payload length 1 mod 4', token(h, null, good, oneMod4(b64(claims())))],
    ['__proto__ claim', token(h, null, good, b64(`{"__proto__":{"sub":"x"},"iss":"${ISS}","aud":"gatehouse","sub":"a","iat":${sec},"exp":${sec + 60}}`))],
  ];
  return cases;
}

async function differential(t: Test, rules: IssuerRules, joseKey: Uint8Array | ReturnType<typeof createLocalJWKSet>, cases: Array<[string, string]>): Promise<void> {
  const v = new TokenVerifier([rules]);
  // Teach it the key (a JWKS key is remembered after jose's first success with it).
  const first = await v.verify(cases[0]![1], now);
  t.ok(first.ok, 'the first valid token verifies');
  const before = v.counts.fast;
  const again = await v.verify(cases[0]![1], now);
  t.ok(again.ok);
  t.equal(v.counts.fast, before + 1, 'the next valid token takes the fast path');
  for (const [name, tok] of cases) {
    // A payload the issuer peek cannot read (a BOM, say) is refused before jose, as before the fast path.
    const expected = peekIssuer(tok) === null ? 'token_malformed' : await joseSays(rules, tok, joseKey);
    const r = await v.verify(tok, now);
    t.equal(r.ok ? 'ok' : r.reason, expected, `${rules.algorithms[0]} ${name}: ${expected}`);
  }
  t.ok(v.counts.fast > before + 3, `fast path used (${v.counts.fast} of ${v.counts.fast + v.counts.jose})`);
}

t.test('HS256 secret: fast path answers as jose does', async (t) => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef');
  const rules: IssuerRules = { issuer: ISS, kind: 'token', key: new Uint8Array(secret), algorithms: ['HS256'], audience: ['gatehouse'], clockToleranceSec: 30, groupsClaim: 'groups', emailClaim: 'email' };
  await differential(t, rules, new Uint8Array(secret), hostile('HS256', undefined, hs(secret), hs(Buffer.from('another secret of the same length 0123456789abcd'))));
  t.ok(createSecretKey(secret));
});

for (const [alg, kind, opts, signOpts] of [
  ['ES256', 'ec', { namedCurve: 'P-256' }, { dsaEncoding: 'ieee-p1363' }],
  ['RS256', 'rsa', { modulusLength: 2048 }, {}],
  ['PS256', 'rsa', { modulusLength: 2048 }, { padding: 6, saltLength: 32 }],
  ['EdDSA', 'ed25519', {}, {}],
] as const) {
  t.test(`${alg} JWKS: fast path answers as jose does`, async (t) => {
    const mk = () => generateKeyPairSync(kind as 'ec', opts as { namedCurve: string });
    const good = mk();
    const other = mk();
    const hash = alg === 'EdDSA' ? null : 'sha256';
    const signer = (k: KeyObject): Signer => (d) => sign(hash, Buffer.from(d), { key: k, ...signOpts }).toString('base64url');
    const jwk = { ...(await exportJWK(good.publicKey)), kid: 'k1', alg, use: 'sig' } as JWK;
    const jwks = { keys: [jwk] };
    let resolver = createLocalJWKSet(jwks);
    const rules: IssuerRules = {
      issuer: ISS, kind: 'token', key: (h, tok) => resolver(h, tok), algorithms: [alg], audience: ['gatehouse'], clockToleranceSec: 30,
      groupsClaim: 'groups', emailClaim: 'email', keysVersion: () => resolver,
    };
    const cases = hostile(alg, 'k1', signer(good.privateKey), signer(other.privateKey));
    if (alg === 'ES256') cases.push(['DER signature', token({ alg, kid: 'k1' }, claims(), (d) => sign('sha256', Buffer.from(d), good.privateKey).toString('base64url'))]);
    await differential(t, rules, createLocalJWKSet(jwks), cases);

    // A rotation (the key set replaced without k1): the remembered key goes with it.
    const v = new TokenVerifier([rules]);
    const valid = cases[0]![1];
    t.ok((await v.verify(valid, now)).ok);
    t.ok((await v.verify(valid, now)).ok);
    resolver = createLocalJWKSet({ keys: [{ ...(await exportJWK(other.publicKey)), kid: 'k2', alg, use: 'sig' } as JWK] });
    const after = await v.verify(valid, now);
    t.equal(after.ok ? 'ok' : after.reason, 'unknown_key', 'a key dropped from the set is no longer accepted');
  });
}

// The common case of token verification, with node:crypto directly: a compact JWT whose protected
// header is only {alg, kid?, typ?}, alg one of the issuer's pinned algorithms, signed with a key this
// issuer's key set already yielded to jose for that (alg, kid), and claims that pass every check jose
// makes with the issuer's options (iss, aud, exp, nbf, iat in the past, exp/iat/sub present, the
// clock tolerance). That answer is a success jose would give too, without jose's per-call work
// (WebCrypto key import, promise chain, a thread-pool hop) — ~2 µs instead of ~120 µs for HS256.
//
// Anything else returns FALLBACK and goes through jose (verify.ts), which stays the one authority on
// every refusal and every unusual token: another header member (crit, b64, jwk, jku, x5u …), an alg
// not pinned, a key not seen yet, a claim that fails, a part that is not strict base64url or UTF-8.
// The one refusal made here is a signature that does not verify with that very key: jose would call
// it bad_signature too, after the same header checks and the same key choice.
import { isUtf8 } from 'node:buffer';
import { constants, createHmac, createSecretKey, KeyObject, timingSafeEqual, verify as cryptoVerify, type webcrypto } from 'node:crypto';
import type { IssuerRules } from './verify.js';

/** verify() could not decide: ask jose. */
export const FALLBACK = null;

type Check = (key: KeyObject, data: Buffer, sig: Buffer) => boolean;

const hmac =
  (hash: string): Check =>
  (key, data, sig) => {
    const mac = createHmac(hash, key).update(data).digest();
    return mac.length === sig.length && timingSafeEqual(mac, sig);
  };
const pss = (hash: string, saltLength: number): Check => (key, data, sig) => cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, sig);
const ecdsa = (hash: string): Check => (key, data, sig) => cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
const pkcs1 = (hash: string): Check => (key, data, sig) => cryptoVerify(hash, data, key, sig);
const eddsa: Check = (key, data, sig) => cryptoVerify(null, data, key, sig);

/** What WebCrypto does for each JWS alg (RFC 7518): PSS with a salt as long as the hash, ECDSA as r‖s. */
const CHECKS: Record<string, Check> = {
  HS256: hmac('sha256'),
  HS384: hmac('sha384'),
  HS512: hmac('sha512'),
  RS256: pkcs1('sha256'),
  RS384: pkcs1('sha384'),
  RS512: pkcs1('sha512'),
  PS256: pss('sha256', 32),
  PS384: pss('sha384', 48),
  PS512: pss('sha512', 64),
  ES256: ecdsa('sha256'),
  ES384: ecdsa('sha384'),
  ES512: ecdsa('sha512'),
  EdDSA: eddsa,
  Ed25519: eddsa,
};

interface Header {
  alg: string;
  /** alg and kid: the key chosen for them (jose picks a JWKS member from nothing else). */
  slot: string;
  check: Check;
}

/** requiredClaims (exp, iat, sub), plus what jose requires for the issuer and audience options. */
const REQUIRED = ['iss', 'aud', 'iat', 'sub', 'exp'];
const MAX_HEADERS = 256;
const MAX_KEYS = 256;

/** base64url that jose's decoder accepts too (no length ≡ 1 mod 4), decoded. */
function b64(part: string): Buffer | null {
  return part.length % 4 === 1 ? null : Buffer.from(part, 'base64url');
}

function parseJson(bytes: Buffer | null): Record<string, unknown> | null {
  if (bytes === null || !isUtf8(bytes)) return null;
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** One issuer's fast path: its parsed headers and the keys jose resolved for each (alg, kid). */
export class FastVerifier {
  private readonly headers = new Map<string, Header | null>();
  private keys = new Map<string, KeyObject>();
  private keysOf: unknown;
  private readonly secret: KeyObject | null;
  private readonly algorithms: Set<string>;

  constructor(private readonly rules: IssuerRules) {
    this.secret = rules.key instanceof Uint8Array && rules.key.length > 0 ? createSecretKey(rules.key) : null;
    this.algorithms = new Set(rules.algorithms);
    this.keysOf = rules.keysVersion?.();
  }

  private header(part: string): Header | null {
    let h = this.headers.get(part);
    if (h !== undefined) return h;
    h = null;
    const v = parseJson(b64(part));
    if (v !== null) {
      const { alg, kid } = v;
      let plain = typeof alg === 'string' && (kid === undefined || typeof kid === 'string') && (v.typ === undefined || typeof v.typ === 'string');
      for (const k in v) if (k !== 'alg' && k !== 'kid' && k !== 'typ') plain = false;
      const check = plain ? CHECKS[alg as string] : undefined;
      if (check !== undefined && this.algorithms.has(alg as string)) h = { alg: alg as string, slot: kid === undefined ? `${alg}` : `${alg}\0${kid}`, check };
    }
    if (this.headers.size < MAX_HEADERS) this.headers.set(part, h);
    return h;
  }

  private key(h: Header): KeyObject | undefined {
    if (this.rules.key instanceof Uint8Array) return h.alg.startsWith('HS') ? (this.secret ?? undefined) : undefined;
    const version = this.rules.keysVersion?.();
    if (version !== this.keysOf) {
      // The issuer's key set changed (a JWKS refresh): what jose chose before no longer holds.
      this.keys = new Map();
      this.keysOf = version;
    }
    return this.keys.get(h.slot);
  }

  /** The key set version to hand back to remember() after jose verifies a token. */
  version(): unknown {
    return this.rules.keysVersion?.();
  }

  /** jose verified a token with this protected header and key, the key set being at `version`. */
  remember(header: { alg?: unknown; kid?: unknown }, key: unknown, version: unknown): void {
    if (this.rules.key instanceof Uint8Array || version !== this.rules.keysVersion?.()) return;
    if (version !== this.keysOf) {
      this.keys = new Map();
      this.keysOf = version;
    }
    const { alg, kid } = header;
    if (typeof alg !== 'string' || !(kid === undefined || typeof kid === 'string') || this.keys.size >= MAX_KEYS) return;
    let k: KeyObject;
    try {
      k = key instanceof KeyObject ? key : KeyObject.from(key as webcrypto.CryptoKey);
    } catch {
      return;
    }
    this.keys.set(kid === undefined ? alg : `${alg}\0${kid}`, k);
  }

  /**
   * The verified claims, 'bad_signature', or FALLBACK (null) when jose must decide. `token` has
   * passed precheck (three base64url parts).
   */
  verify(token: string, now: number, parsed: Record<string, unknown> | null = null): Record<string, unknown> | 'bad_signature' | null {
    const d1 = token.indexOf('.');
    const d2 = token.indexOf('.', d1 + 1);
    const h = this.header(token.slice(0, d1));
    if (h === null) return FALLBACK;
    const key = this.key(h);
    if (key === undefined) return FALLBACK;
    const payloadPart = token.slice(d1 + 1, d2);
    const sig = b64(token.slice(d2 + 1));
    if (sig === null || payloadPart.length % 4 === 1) return FALLBACK;
    if (!h.check(key, Buffer.from(token.slice(0, d2), 'latin1'), sig)) return 'bad_signature';
    // `parsed`: the caller's strict parse of this payload (a fresh object), when it has one.
    const claims = parsed ?? parseJson(Buffer.from(payloadPart, 'base64url'));
    return claims !== null && this.claimsPass(claims, now) ? claims : FALLBACK;
  }

  /** jose's validateClaimsSet with the issuer's options (see TokenVerifier), plus a usable sub. */
  private claimsPass(c: Record<string, unknown>, nowMs: number): boolean {
    const r = this.rules;
    for (const name of REQUIRED) if (!Object.hasOwn(c, name)) return false;
    if (c.iss !== r.issuer) return false;
    const aud = c.aud;
    if (typeof aud === 'string' ? !r.audience.includes(aud) : !Array.isArray(aud) || !r.audience.some((a) => aud.includes(a))) return false;
    const tolerance = r.clockToleranceSec;
    if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) return false;
    const now = Math.floor(nowMs / 1000);
    const { iat, nbf, exp } = c;
    if (typeof iat !== 'number' || typeof exp !== 'number') return false;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance)) return false;
    if (exp <= now - tolerance) return false;
    const age = now - iat;
    if (age - tolerance > Number.MAX_SAFE_INTEGER || age < -tolerance) return false;
    return typeof c.sub === 'string' && c.sub !== '';
  }
}

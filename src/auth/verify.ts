// Token verification, pinned per issuer. The order matters:
//   1. size and shape checks, before any decoding (token_too_large, token_malformed);
//   2. the unverified `iss` is read ONLY to pick which issuer's keys and rules apply;
//   3. jose verifies signature and claims with that issuer's pinned algorithms, iss, aud, required
//      exp/iat/sub and clock tolerance — keys come only from the issuer's configured key set, never
//      from the token's own jwk/jku/x5u headers;
//   4. the identity is built from the verified claims only.
// Every failure becomes a TokenReason in toTokenReason(), the one place jose's errors are converted.
import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { TokenReason } from '../errors.js';
import type { Identity } from '../policy/types.js';
import { FALLBACK, FastVerifier } from './fast-verify.js';
import { SHARED, sharedList, sharedString } from './intern.js';
import type { KeyResolver } from './keys.js';
import { KeysUnavailableError } from './remote-jwks.js';

/** Tokens longer than this are refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;
/** The `iss` and `aud` of tokens the gateway mints. */
export const GATEWAY_ISSUER = 'gatehouse';
export const GATEWAY_AUDIENCE = 'gatehouse';

/** How one issuer's tokens are checked and turned into an identity. */
export interface IssuerRules {
  issuer: string;
  /** 'session' for the gateway's own tokens, 'token' for external issuers. */
  kind: 'session' | 'token';
  /** A key resolver (JWKS) or an HMAC secret. */
  key: KeyResolver | Uint8Array;
  algorithms: string[];
  audience: string[];
  clockToleranceSec: number;
  groupsClaim: string;
  emailClaim: string;
  /**
   * The key set in use (an object that changes when it is replaced, e.g. by a JWKS refresh), so
   * keys remembered for the fast path are dropped with it. Absent: the key set never changes.
   */
  keysVersion?: () => unknown;
}

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; reason: TokenReason; error?: unknown };

// Three base64url parts; the signature may be empty so that `alg: none` reaches jose and is
// reported as alg_not_allowed rather than as a shape error.
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Shape checks done before any decoding. */
export function precheck(token: string): TokenReason | null {
  if (token.length > MAX_TOKEN_LENGTH) return 'token_too_large';
  if (!COMPACT_JWS.test(token)) return 'token_malformed';
  const d1 = token.indexOf('.');
  const d2 = token.indexOf('.', d1 + 1);
  if (!canonicalBase64url(token, 0, d1) || !canonicalBase64url(token, d1 + 1, d2) || !canonicalBase64url(token, d2 + 1, token.length)) return 'token_malformed';
  return null;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * One spelling per byte string: a part whose last character carries unused bits, or whose length
 * leaves a lone character, is refused. Decoders ignore those bits, so without this one signature
 * could be written 4–16 ways, each a different token string (cache key) for the same token.
 */
function canonicalBase64url(token: string, from: number, to: number): boolean {
  const rest = (to - from) % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const last = B64URL.indexOf(token[to - 1] as string);
  return rest === 2 ? (last & 15) === 0 : (last & 3) === 0;
}

/**
 * The unverified `iss`, used only to choose the issuer's rules (nothing else is read from an
 * unverified token): "" when absent or not a string (no issuer of ours), null when the payload is
 * not a JSON object at all.
 */
export function peekIssuer(token: string): string | null {
  const start = token.indexOf('.') + 1;
  const payload = parsePayload(Buffer.from(token.slice(start, token.indexOf('.', start)), 'base64url'));
  if (payload === null) return null;
  return typeof payload.iss === 'string' ? payload.iss : '';
}

/** A payload's JSON object (not verified), or null when it is not one. */
function parsePayload(bytes: Buffer): Record<string, unknown> | null {
  let payload: unknown;
  try {
    payload = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  return payload as Record<string, unknown>;
}

/** jose's errors (and ours) → the closed set of credential failure codes. The only such mapping. */
export function toTokenReason(err: unknown): TokenReason {
  if (err instanceof KeysUnavailableError) return 'keys_unavailable';
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = err;
    if (claim === 'iss') return 'issuer_mismatch';
    if (claim === 'aud') return 'audience_mismatch';
    if ((claim === 'nbf' || claim === 'iat') && reason === 'check_failed') return 'not_yet_valid';
    // A required claim (exp, iat, sub) missing or not of the right type.
    return 'token_malformed';
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  // Several keys match a kid-less token: ambiguous, refused rather than tried one by one.
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof errors.JWKInvalid) return 'keys_unavailable';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return 'token_malformed';
  // Plain JOSEError: jose's "Expected 200 OK from the JSON Web Key Set HTTP response" and kin.
  if (err instanceof errors.JOSEError) return 'keys_unavailable';
  // Anything else (a TypeError from odd input) fails closed; the caller logs it.
  return 'token_malformed';
}

/** Whether toTokenReason recognised the error (the caller logs the others as unexpected). */
export function isExpectedError(err: unknown): boolean {
  return err instanceof errors.JOSEError || err instanceof KeysUnavailableError;
}

// ------------------------------------------------------------------ identity from verified claims

/** A claim by name, or by dotted path (`realm_access.roles`) when no claim has the literal name. */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  if (!name.includes('.')) return undefined;
  let cur: unknown = claims;
  for (const seg of name.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** An array of strings, or a space/comma separated string, as a string list. */
export function stringList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((x) => x !== '');
  return [];
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

export function sha256Hex(s: string): string {
  // One-shot: no Hash object per jti-less token (the same digest as createHash().update().digest()).
  return hash('sha256', s, 'hex');
}

/**
 * Swaps the claims' shareable values for the pooled ones (intern.ts): `iss` for the issuer's own
 * string, `aud` and `idp` for pooled strings, every top-level list of strings (groups, amr, roles …)
 * for a pooled frozen list. Values are replaced by equal ones of the same type, so the claims mean
 * exactly what was verified and keep their shape.
 */
function shareClaims(rules: IssuerRules, c: Record<string, unknown>): void {
  for (const k of Object.keys(c)) {
    const v = c[k];
    // An own "__proto__" (JSON.parse makes one) is set as data, but is left alone all the same.
    if (Array.isArray(v) && k !== '__proto__') c[k] = sharedList(v);
  }
  if (c.iss === rules.issuer) c.iss = rules.issuer;
  if (typeof c.aud === 'string') c.aud = sharedString(c.aud);
  if (typeof c.idp === 'string') c.idp = sharedString(c.idp);
}

/** A list claim as an identity list: the pooled list itself when nothing had to be filtered out. */
function identityList(v: unknown): string[] {
  // Already pooled by shareClaims (a list of strings): itself, unless it holds an empty one.
  if (Array.isArray(v) && SHARED.has(v) && !v.includes('')) return v as string[];
  const list = stringList(v);
  if (Array.isArray(v) && list.length === v.length) return sharedList(v);
  return sharedList(list);
}

/** The identity of a verified token. Frozen: one object is shared by every request that hits the cache. */
export function identityFromClaims(rules: IssuerRules, claims: JWTPayload, token: string): Identity {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const c = claims as Record<string, unknown>;
  shareClaims(rules, c);
  // Every member is present (an absent one as undefined, which JSON views omit anyway): one object
  // shape for every token, and never a `delete`, which would put each cached identity — read on
  // every request — into V8's slow dictionary mode.
  const identity: Identity = {
    kind: rules.kind,
    // Without a jti, the signed part names the session: an ES256 signature can be re-written
    // (high-S) and still verify, and revoking one spelling must revoke them all.
    sessionId: str(c.jti) ?? sha256Hex(token.slice(0, token.lastIndexOf('.'))),
    subject: c.sub as string,
    email: str(claimAt(c, rules.emailClaim)),
    name: str(c.name),
    groups: identityList(claimAt(c, rules.groupsClaim)),
    idp: rules.kind === 'session' ? str(c.idp) : rules.issuer,
    amr: identityList(c.amr),
    issuer: rules.issuer,
    claims: c,
    issuedAt: c.iat as number,
    expiresAt: c.exp as number,
  };
  return deepFreeze(identity);
}

// ------------------------------------------------------------------ the verifier

export class TokenVerifier {
  /** Verifications answered by the node:crypto fast path and by jose (for tests and profiling). */
  readonly counts = { fast: 0, jose: 0 };
  private readonly byIssuer: Map<string, { rules: IssuerRules; options: JWTVerifyOptions; fast: FastVerifier }>;

  constructor(issuers: IssuerRules[]) {
    this.byIssuer = new Map();
    for (const rules of issuers) {
      this.byIssuer.set(rules.issuer, {
        rules,
        fast: new FastVerifier(rules),
        options: {
          issuer: rules.issuer,
          audience: rules.audience,
          algorithms: rules.algorithms,
          clockTolerance: rules.clockToleranceSec,
          requiredClaims: ['exp', 'iat', 'sub'],
          // jose checks "iat not in the future (beyond tolerance)" only when maxTokenAge is set; an
          // unbounded age turns that check on without limiting how old a token may be (exp does that).
          maxTokenAge: Number.MAX_SAFE_INTEGER,
        },
      });
    }
  }

  has(issuer: string): boolean {
    return this.byIssuer.has(issuer);
  }

  /**
   * The answer when no I/O or jose is needed: shape and issuer refusals, and the node:crypto fast
   * path's success or bad signature (fast-verify.ts). undefined: jose must decide (verify()).
   */
  verifyNow(token: string, now = Date.now()): VerifyResult | undefined {
    const shape = precheck(token);
    if (shape) return { ok: false, reason: shape };
    const d1 = token.indexOf('.');
    const part = token.slice(d1 + 1, token.indexOf('.', d1 + 1));
    const bytes = Buffer.from(part, 'base64url');
    const payload = parsePayload(bytes);
    if (payload === null) return { ok: false, reason: 'token_malformed' };
    // The unverified `iss` only picks the issuer's rules (see peekIssuer).
    const entry = this.byIssuer.get(typeof payload.iss === 'string' ? payload.iss : '');
    if (!entry) return { ok: false, reason: 'issuer_mismatch' };
    // The fast path may use this very parse when it is what a strict decoder reads too.
    const strict = isUtf8(bytes) ? payload : null;
    const fast = entry.fast.verify(token, now, strict);
    if (fast === FALLBACK) return undefined;
    this.counts.fast++;
    if (fast === 'bad_signature') return { ok: false, reason: 'bad_signature' };
    return { ok: true, identity: identityFromClaims(entry.rules, fast, token) };
  }

  async verify(token: string, now = Date.now()): Promise<VerifyResult> {
    return this.verifyNow(token, now) ?? this.verifyWithJose(token, now);
  }

  /** jose's answer, for a token verifyNow() has already passed to it (its shape and issuer checked). */
  async verifyWithJose(token: string, now = Date.now()): Promise<VerifyResult> {
    const entry = this.byIssuer.get(peekIssuer(token) as string);
    if (!entry) return { ok: false, reason: 'issuer_mismatch' };
    this.counts.jose++;
    try {
      const options = { ...entry.options, currentDate: new Date(now) };
      const version = entry.fast.version();
      const result =
        entry.rules.key instanceof Uint8Array
          ? await jwtVerify(token, entry.rules.key, options)
          : await jwtVerify(token, entry.rules.key, options);
      const { payload } = result;
      // Present (requiredClaims) is not enough: the subject must be a usable string.
      if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, reason: 'token_malformed' };
      if ('key' in result) entry.fast.remember(result.protectedHeader, result.key, version);
      return { ok: true, identity: identityFromClaims(entry.rules, payload, token) };
    } catch (error) {
      return { ok: false, reason: toTokenReason(error), error };
    }
  }
}

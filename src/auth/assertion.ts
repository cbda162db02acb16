// The identity assertion sent upstream (X-Gatehouse-Jwt-Assertion): a short-lived JWT signed with the
// gateway's key, aud = the app's audience, verifiable with /.gatehouse/certs.
//
// Signing happens on the forward path of every allowed request, so it is (a) synchronous — node:crypto
// signs in a few microseconds without a Promise, where jose's WebCrypto signing is async — and (b)
// cached per verified identity and audience until a minute before the assertion expires, together
// with the header-safe identity values, so a cache-hit request only looks them up. Identity objects
// whose assertions would say the same (everything but iat/exp) share one signature. Only
// SIGNING is done here by hand (three base64url parts); every verification, here and in the tests,
// goes through jose.
import { constants, sign as nodeSign, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../policy/types.js';
import type { KeySet, SigningAlgorithm } from './keys.js';
import { GATEWAY_ISSUER } from './verify.js';

/** Upper bound of an assertion's lifetime. */
export const ASSERTION_TTL_SEC = 300;
/** A cached assertion is replaced this long before it expires, so upstreams never see one about to lapse. */
export const ASSERTION_REFRESH_MARGIN_MS = 60_000;

type Signer = (data: Buffer, key: KeyObject) => Buffer;

const SIGNERS: Record<SigningAlgorithm, Signer> = {
  ES256: (d, key) => nodeSign('sha256', d, { key, dsaEncoding: 'ieee-p1363' }),
  ES384: (d, key) => nodeSign('sha384', d, { key, dsaEncoding: 'ieee-p1363' }),
  ES512: (d, key) => nodeSign('sha512', d, { key, dsaEncoding: 'ieee-p1363' }),
  RS256: (d, key) => nodeSign('sha256', d, key),
  PS256: (d, key) => nodeSign('sha256', d, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
  EdDSA: (d, key) => nodeSign(null, d, key),
};

const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

/** What the upstream is told about one identity, for one app: header-safe values and the assertion. */
export interface UpstreamIdentity {
  /** X-Gatehouse-User-Email (null: none, or not encodable). */
  readonly email: string | null;
  /** X-Gatehouse-User-Id (the subject). */
  readonly userId: string | null;
  /** X-Gatehouse-User-Groups, comma separated (null: no groups). */
  readonly groups: string | null;
  /** X-Gatehouse-Jwt-Assertion; null when the app turned it off (jwt_assertion: false). */
  readonly assertion: string | null;
}

interface Cached extends UpstreamIdentity {
  readonly audience: string;
  /** The assertion's exp (epoch s): never later than the identity's own. */
  readonly exp: number;
  readonly refreshAt: number;
  /** The identity object this entry is served to (hits compare the object, not its contents). */
  readonly identity: Identity;
  /** What the assertion says but iat/exp (its claims' JSON), for sharing; null when unsigned. */
  readonly content: string | null;
}

/** Entries kept per session id, newest first: one per identity object × audience in use. */
const MAX_PER_SESSION = 8;

export class AssertionSigner {
  private readonly header: string;
  private readonly signer: Signer;
  private readonly key: KeyObject;
  /**
   * By session id: the entries made for it. An entry is served only to the very identity object it
   * was made for — the verified-token cache hands out one object per token — so two issuers' equal
   * jti values never share one. Identity objects that say the same thing (every claim but iat/exp
   * equal) — the same token verified again after a cache eviction, a service token's identity
   * rebuilt each cache lifetime, a session's live-identity version that changed nothing signed —
   * share one signature until it nears expiry. The assertion carries `sid`, so sharing can only
   * happen within one session id: keying by it finds candidates without a second cache keyed by
   * the claims' JSON (which cost a lookup, an insert and the garbage of both for every new session).
   */
  private readonly cache: LRUCache<string, Cached[]>;
  /** Signatures made (each one a full sign with the gateway's key): a counter, for tests and metrics. */
  signatures = 0;

  constructor(keys: KeySet, opts: { maxEntries?: number } = {}) {
    const { alg, kid, key } = keys.signingKey;
    this.header = b64url(JSON.stringify({ alg, kid, typ: 'JWT' }));
    this.signer = SIGNERS[alg];
    this.key = key;
    this.cache = new LRUCache({ max: opts.maxEntries ?? 10_000 });
  }

  sign(identity: Identity, audience: string, now = Date.now()): string {
    return this.upstream(identity, audience, true, now).assertion as string;
  }

  /**
   * The identity headers for `audience`, built and signed once per identity and audience and reused
   * until a minute before the assertion expires. Looked up by the session id and audience strings
   * the identity and the config already hold (no key is built per request).
   */
  upstream(identity: Identity, audience: string, signed = true, now = Date.now()): UpstreamIdentity {
    const entries = this.cache.get(identity.sessionId);
    if (entries !== undefined) {
      for (let i = 0; i < entries.length; i++) {
        const c = entries[i] as Cached;
        if (c.identity === identity && c.audience === audience && now < c.refreshAt && (c.assertion !== null) === signed) return c;
      }
    }
    const made = this.make(identity, audience, now, signed, entries);
    if (made.refreshAt > now) this.remember(entries, made, now);
    return made;
  }

  /**
   * Puts `made` first; drops what it replaces (same identity object, audience and signedness) and what
   * is stale. Signed and unsigned entries are kept apart: two apps may share an audience while only
   * one of them wants the assertion (jwt_assertion: false must never receive one).
   */
  private remember(entries: Cached[] | undefined, made: Cached, now: number): void {
    if (entries === undefined) {
      this.cache.set(made.identity.sessionId, [made]);
      return;
    }
    const kept = [made];
    for (const c of entries) {
      if (kept.length >= MAX_PER_SESSION) break;
      if (now < c.refreshAt && !(c.identity === made.identity && c.audience === made.audience && (c.assertion === null) === (made.assertion === null))) kept.push(c);
    }
    this.cache.set(made.identity.sessionId, kept);
  }

  private make(identity: Identity, audience: string, now: number, signed: boolean, entries: Cached[] | undefined): Cached {
    const iat = Math.floor(now / 1000);
    const exp = Math.min(iat + ASSERTION_TTL_SEC, identity.expiresAt);
    const email = identity.email ? headerSafe(identity.email) : null;
    const userId = headerSafe(identity.subject);
    const groups = identity.groups.length ? headerSafe(identity.groups.join(',')) : null;
    const refreshAt = exp * 1000 - ASSERTION_REFRESH_MARGIN_MS;
    if (!signed) return { audience, email, userId, groups, assertion: null, exp, refreshAt, identity, content: null };
    const content = JSON.stringify({
      iss: GATEWAY_ISSUER,
      aud: audience,
      sub: identity.subject,
      email: identity.email,
      name: identity.name,
      groups: identity.groups,
      amr: identity.amr,
      idp: identity.idp,
      sid: identity.sessionId,
      service_token: identity.serviceToken,
    });
    // The same claims (so the same audience and header values), signed earlier for another identity
    // object of this session: reused while fresh, and never past this identity's own exp.
    if (entries !== undefined) {
      for (const c of entries) {
        if (c.content === content && now < c.refreshAt && c.exp <= identity.expiresAt) return { ...c, identity };
      }
    }
    return { audience, email, userId, groups, assertion: this.assertion(content, iat, exp), exp, refreshAt, identity, content };
  }

  /** The JWT: `content` is the claims' JSON without iat and exp, which lead the payload. */
  private assertion(content: string, iat: number, exp: number): string {
    const input = `${this.header}.${b64url(`{"iat":${iat},"exp":${exp},${content.slice(1)}`)}`;
    this.signatures++;
    return `${input}.${this.signer(Buffer.from(input, 'ascii'), this.key).toString('base64url')}`;
  }
}

// Node refuses header values outside tab, 0x20–0x7E and 0x80–0xFF (and CR/LF would split headers).
const UNSAFE_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * A claim value as a header value: unchanged when safe, percent-encoded (encodeURIComponent) when it
 * holds CR, LF, NUL, other control characters or characters outside Latin-1, null when it cannot be
 * encoded (a lone surrogate). Never throws.
 */
export function headerSafe(value: string): string | null {
  if (typeof value !== 'string') return null;
  if (!UNSAFE_HEADER_CHAR.test(value)) return value;
  try {
    return encodeURIComponent(value);
  } catch {
    return null;
  }
}

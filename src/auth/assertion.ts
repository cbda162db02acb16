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
}

/** One session's entries: for the very identity object they were made for, by audience. */
interface PerSession {
  identity: Identity;
  /** The first audience's entry (most sessions only ever visit one app), then the others. */
  first: Cached;
  more: Cached[] | null;
}

export class AssertionSigner {
  private readonly header: string;
  private readonly signer: Signer;
  private readonly key: KeyObject;
  private readonly cache: LRUCache<string, PerSession>;
  /**
   * Signed assertions by what they say (audience and every claim but iat/exp): identity objects
   * that say the same thing — the same token verified again after a cache eviction, a service
   * token's identity rebuilt each cache lifetime, a session's live-identity version that changed
   * nothing signed — share one signature until it nears expiry.
   */
  private readonly signed: LRUCache<string, Cached>;
  /** Signatures made (each one a full sign with the gateway's key): a counter, for tests and metrics. */
  signatures = 0;

  constructor(keys: KeySet, opts: { maxEntries?: number } = {}) {
    const { alg, kid, key } = keys.signingKey;
    this.header = b64url(JSON.stringify({ alg, kid, typ: 'JWT' }));
    this.signer = SIGNERS[alg];
    this.key = key;
    this.cache = new LRUCache({ max: opts.maxEntries ?? 10_000 });
    this.signed = new LRUCache({ max: opts.maxEntries ?? 10_000 });
  }

  sign(identity: Identity, audience: string, now = Date.now()): string {
    return this.upstream(identity, audience, true, now).assertion as string;
  }

  /**
   * The identity headers for `audience`, built and signed once per identity and audience and reused
   * until a minute before the assertion expires. Looked up by the session id and audience strings
   * the identity and the config already hold (no key is built per request), and served only to the
   * very identity object they were made for — the verified-token cache hands out one object per
   * token — so two issuers' equal jti values can never share an entry; a signature is shared only
   * between identities whose assertions say exactly the same.
   */
  upstream(identity: Identity, audience: string, signed = true, now = Date.now()): UpstreamIdentity {
    const session = this.cache.get(identity.sessionId);
    if (session !== undefined && session.identity === identity) {
      const hit = session.first.audience === audience ? session.first : find(session.more, audience);
      if (hit !== undefined && now < hit.refreshAt && (hit.assertion !== null || !signed)) return hit;
    }
    const made = this.make(identity, audience, now, signed);
    if (made.refreshAt > now) this.remember(session, identity, made);
    return made;
  }

  private remember(session: PerSession | undefined, identity: Identity, made: Cached): void {
    if (session === undefined || session.identity !== identity) {
      this.cache.set(identity.sessionId, { identity, first: made, more: null });
    } else if (session.first.audience === made.audience) {
      session.first = made;
    } else {
      const others = (session.more ?? []).filter((c) => c.audience !== made.audience);
      others.push(made);
      session.more = others;
    }
  }

  private make(identity: Identity, audience: string, now: number, signed: boolean): Cached {
    const iat = Math.floor(now / 1000);
    const exp = Math.min(iat + ASSERTION_TTL_SEC, identity.expiresAt);
    const email = identity.email ? headerSafe(identity.email) : null;
    const userId = headerSafe(identity.subject);
    const groups = identity.groups.length ? headerSafe(identity.groups.join(',')) : null;
    if (!signed) return { audience, email, userId, groups, assertion: null, exp, refreshAt: exp * 1000 - ASSERTION_REFRESH_MARGIN_MS };
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
    const shared = this.signed.get(content);
    // The same claims, signed earlier: reused while fresh, and never past this identity's own exp.
    if (shared !== undefined && now < shared.refreshAt && shared.exp <= identity.expiresAt) return shared;
    const made: Cached = { audience, email, userId, groups, assertion: this.assertion(content, iat, exp), exp, refreshAt: exp * 1000 - ASSERTION_REFRESH_MARGIN_MS };
    if (made.refreshAt > now) this.signed.set(content, made);
    return made;
  }

  /** The JWT: `content` is the claims' JSON without iat and exp, which lead the payload. */
  private assertion(content: string, iat: number, exp: number): string {
    const input = `${this.header}.${b64url(`{"iat":${iat},"exp":${exp},${content.slice(1)}`)}`;
    this.signatures++;
    return `${input}.${this.signer(Buffer.from(input, 'ascii'), this.key).toString('base64url')}`;
  }
}

function find(list: Cached[] | null, audience: string): Cached | undefined {
  if (list === null) return undefined;
  for (const c of list) if (c.audience === audience) return c;
  return undefined;
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

// The facade the pipeline's authenticate stage calls. One request: extract the credential, hash it
// once, and answer from the verified-token cache when possible — synchronously, without a Promise,
// signature work or I/O. A new token that the node:crypto fast path can decide is verified and
// cached synchronously too. Otherwise verify (jose, service tokens), cache the success, and
// answer asynchronously. Every answer, hit or miss, passes the revocation check.
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import type { CredentialSource } from '../context.js';
import type { TokenReason } from '../errors.js';
import type { Logger } from '../log.js';
import type { Identity } from '../policy/types.js';
import { serviceKey, tokenKey, TokenCache, type CacheStats } from './cache.js';
import { extractCredential } from './credentials.js';
import { externalSource, gatewaySource, type ExternalSourceOptions, type IssuerSource } from './issuers.js';
import type { KeySet } from './keys.js';
import type { IssuerStatus } from './remote-jwks.js';
import type { RevocationSet } from './revocations.js';
import { ServiceTokens } from './service-tokens.js';
import { isExpectedError, toTokenReason, TokenVerifier } from './verify.js';

export type AuthResult =
  | { ok: true; identity: Identity; source: CredentialSource; cacheHit: boolean }
  | { ok: false; reason: TokenReason; tokenSent: boolean; /** revoked only: whose session it was, for the audit */ identity?: Identity };

export type AuthenticatorOptions = ExternalSourceOptions;

const NO_CREDENTIAL: AuthResult = Object.freeze({ ok: false, reason: 'token_missing', tokenSent: false });
const CONFLICT: AuthResult = Object.freeze({ ok: false, reason: 'conflicting_credentials', tokenSent: true });

type Outcome = { ok: true; identity: Identity; notAfter?: number } | { ok: false; reason: TokenReason; error?: unknown };

function failure(reason: TokenReason): AuthResult {
  return { ok: false, reason, tokenSent: true };
}

export class Authenticator {
  private cookieName: string;
  private cache: TokenCache;
  private sources: IssuerSource[];
  private verifier: TokenVerifier;
  private serviceTokens: ServiceTokens;
  private keys: KeySet;
  /** Verifications in flight by cache key: a burst of requests with one new token verifies it once. */
  private readonly inflight = new Map<string, Promise<Outcome>>();

  private constructor(
    config: GatewayConfig,
    keys: KeySet,
    sources: IssuerSource[],
    private readonly revocations: RevocationSet,
    private readonly logger: Logger,
    private readonly options: AuthenticatorOptions,
  ) {
    this.cookieName = config.session.cookie;
    this.cache = new TokenCache(config.session.cache);
    this.keys = keys;
    this.sources = sources;
    this.verifier = new TokenVerifier(sources.map((s) => s.rules));
    this.serviceTokens = new ServiceTokens(config.serviceTokens, config.session.cache.maxTtlMs);
  }

  /**
   * Builds the authenticator and makes a first attempt to fetch every remote JWKS (bounded by the
   * fetch timeout). An unreachable JWKS does not stop the gateway: that issuer fails closed
   * (keys_unavailable) and reports not ready until a refresh succeeds.
   */
  static async create(
    config: GatewayConfig,
    keys: KeySet,
    revocations: RevocationSet,
    logger: Logger,
    options: AuthenticatorOptions = {},
  ): Promise<Authenticator> {
    const sources = buildSources(config, keys, options);
    await startAll(sources, logger);
    return new Authenticator(config, keys, sources, revocations, logger, options);
  }

  /**
   * Authenticates one request for `appName`. Returns the result itself on a cache hit (and for every
   * answer that needs no verification), a Promise only when verification must run.
   */
  authenticate(headers: IncomingHttpHeaders, appName: string, now = Date.now()): AuthResult | Promise<AuthResult> {
    const cred = extractCredential(headers, this.cookieName);
    switch (cred.kind) {
      case 'none':
        return NO_CREDENTIAL;
      case 'conflict':
        return CONFLICT;
      case 'service': {
        const key = serviceKey(cred.clientId, cred.secret);
        const hit = this.cache.get(key, now);
        if (hit) return this.answer(hit, 'service_token', appName, true);
        return this.miss(key, () => this.serviceTokens.verify(cred.clientId, cred.secret, now), 'service_token', appName, now);
      }
      default: {
        const key = tokenKey(cred.token);
        const hit = this.cache.get(key, now);
        if (hit) return this.answer(hit, cred.kind, appName, true);
        // A new token the node:crypto fast path can decide: answered here, without a Promise.
        if (!this.inflight.has(key)) {
          const quick = this.verifier.verifyNow(cred.token, now);
          if (quick !== undefined) {
            if (!quick.ok) return failure(quick.reason);
            this.cache.set(key, quick.identity, now);
            return this.answer(quick.identity, cred.kind, appName, false);
          }
        }
        // verifyNow() above has passed it to jose (or another request's verification is in flight).
        return this.miss(key, () => this.verifier.verifyWithJose(cred.token, now), cred.kind, appName, now);
      }
    }
  }

  private answer(identity: Identity, source: CredentialSource, appName: string, cacheHit: boolean): AuthResult {
    if (this.revocations.isRevoked(identity, appName)) return { ok: false, reason: 'revoked', tokenSent: true, identity };
    return { ok: true, identity, source, cacheHit };
  }

  private async miss(
    key: string,
    verify: () => Promise<Outcome>,
    source: CredentialSource,
    appName: string,
    now: number,
  ): Promise<AuthResult> {
    let pending = this.inflight.get(key);
    if (!pending) {
      const cache = this.cache;
      const inflight = this.inflight;
      // One continuation both caches the answer and ends the in-flight entry: no extra
      // finally/catch promises per cold request. A rejection (a bug) fails closed like any failure.
      pending = verify().then(
        (outcome) => {
          inflight.delete(key);
          // Only successes are cached; a failure is re-checked next time (it may be keys_unavailable).
          if (outcome.ok) cache.set(key, outcome.identity, now, outcome.notAfter);
          else if (outcome.error !== undefined && !isExpectedError(outcome.error)) this.unexpected(outcome.error, outcome.reason);
          return outcome;
        },
        (error: unknown): Outcome => {
          inflight.delete(key);
          const reason = toTokenReason(error);
          this.unexpected(error, reason);
          return { ok: false, reason, error };
        },
      );
      inflight.set(key, pending);
    }
    const outcome = await pending;
    if (!outcome.ok) return failure(outcome.reason);
    return this.answer(outcome.identity, source, appName, false);
  }

  private unexpected(err: unknown, reason: TokenReason): void {
    this.logger.warn({ err, reason }, 'unexpected error while verifying a token');
  }

  /**
   * On config reload (and key rotation). The cache survives unless what it vouches for changed:
   * any issuer or key change clears it; service-token changes drop only service identities.
   */
  async update(config: GatewayConfig, keys: KeySet = this.keys): Promise<void> {
    this.cookieName = config.session.cookie;

    const next = buildSources(config, keys, this.options, this.sources);
    const fresh = next.filter((s) => !this.sources.includes(s));
    await startAll(fresh, this.logger);
    const issuersChanged = fresh.length > 0 || next.length !== this.sources.length;
    for (const old of this.sources) if (!next.includes(old)) old.close();
    this.sources = next;
    this.keys = keys;
    if (issuersChanged) this.verifier = new TokenVerifier(next.map((s) => s.rules));

    const c = config.session.cache;
    const o = this.cache.options;
    if (c.maxEntries !== o.maxEntries || c.maxBytes !== o.maxBytes || c.maxTtlMs !== o.maxTtlMs) {
      this.cache = new TokenCache(c);
    } else if (issuersChanged) {
      this.cache.clear();
    }

    const tokens = new ServiceTokens(config.serviceTokens, c.maxTtlMs);
    if (tokens.fingerprint !== this.serviceTokens.fingerprint) {
      this.cache.deleteWhere((id) => id.kind === 'service');
    }
    this.serviceTokens = tokens;
  }

  /** Key health of every issuer (the gateway's own last), for /readyz and /metrics. */
  status(): IssuerStatus[] {
    return this.sources.map((s) => s.status());
  }

  /** Ready when every issuer's keys are available. */
  ready(): boolean {
    return this.sources.every((s) => s.status().ready);
  }

  cacheStats(): CacheStats {
    return this.cache.stats();
  }

  close(): void {
    for (const s of this.sources) s.close();
  }
}

/** The issuer sources for a config, reusing `previous` ones whose configuration is unchanged. */
function buildSources(config: GatewayConfig, keys: KeySet, options: AuthenticatorOptions, previous: IssuerSource[] = []): IssuerSource[] {
  const reuse = (s: IssuerSource): IssuerSource => previous.find((p) => p.fingerprint === s.fingerprint && p.rules.issuer === s.rules.issuer) ?? s;
  // The gateway's own issuer is listed last so a misconfigured external issuer named "gatehouse"
  // can never take over session verification.
  const external = config.tokenIssuers.map((cfg) => reuse(externalSource(cfg, options)));
  return [...external, reuse(gatewaySource(keys))];
}

async function startAll(sources: IssuerSource[], logger: Logger): Promise<void> {
  await Promise.all(sources.map((s) => s.start()));
  for (const s of sources) {
    const st = s.status();
    if (!st.ready) logger.warn({ issuer: st.issuer, error: st.lastError }, 'token issuer keys unavailable; its tokens are refused until they load');
  }
}

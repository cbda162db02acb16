// A remote JWKS that keeps working when its endpoint does not. jose's createRemoteJWKSet does the
// fetching (timeout, redirect refusal, JWKS validation, de-duplicated reloads); this wrapper decides
// WHEN to fetch and keeps the last good key set:
//  - jose fails every verification once its cache is older than cacheMaxAge, turning an IdP outage
//    into a gateway outage. Here a failed refresh keeps serving the last good set (reported stale).
//  - jose's cooldown counts from the last *successful* fetch, so while the endpoint is down every
//    token with an unknown kid would trigger a fetch. Here the cooldown counts from the last attempt.
//  - Unreachable at start: the gateway starts; this issuer fails closed (keys_unavailable), not ready.
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, type FetchImplementation, type JSONWebKeySet } from 'jose';
import type { KeyResolver } from './keys.js';

/** Verification could not get keys at all (never fetched, file unreadable …) → keys_unavailable. */
export class KeysUnavailableError extends Error {
  constructor(readonly issuer: string, detail: string | null) {
    super(`keys for ${issuer} unavailable${detail ? `: ${detail}` : ''}`);
    this.name = 'KeysUnavailableError';
  }
}

/** Health of one issuer's keys, for /readyz and /metrics. */
export interface IssuerStatus {
  issuer: string;
  lastSuccess: Date | null;
  lastError: string | null;
  /** Keys are being served but the latest refresh failed (or refreshes are overdue). */
  stale: boolean;
  /** Keys are available: tokens of this issuer can be verified. */
  ready: boolean;
}

export interface RemoteJwksOptions {
  /** Minimum time between two fetches (unknown kid, retries after a failure). */
  cooldownMs: number;
  /** Background refresh period. */
  refreshIntervalMs?: number;
  /** Per-fetch timeout. */
  timeoutMs?: number;
  /** For tests: a fetch implementation. */
  fetch?: FetchImplementation;
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${err.message} (${detail})` : err.message;
}

export class RemoteJwks {
  readonly issuer: string;
  readonly url: URL;
  /** Resolver for jwtVerify: the last good key set, refetched on an unknown kid at most once per cooldown. */
  readonly resolver: KeyResolver;
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private readonly cooldownMs: number;
  private readonly refreshIntervalMs: number;
  private local: KeyResolver | null = null;
  private lastGood: JSONWebKeySet | null = null;
  private lastAttempt = -Infinity;
  private lastSuccess: Date | null = null;
  private lastError: string | null = null;
  private pending: Promise<boolean> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Fetches made so far (for tests and metrics). */
  fetches = 0;

  constructor(issuer: string, url: URL, opts: RemoteJwksOptions) {
    this.issuer = issuer;
    this.url = url;
    this.cooldownMs = opts.cooldownMs;
    this.refreshIntervalMs = opts.refreshIntervalMs ?? 5 * 60_000;
    this.remote = createRemoteJWKSet(url, {
      // Freshness is managed here; jose's own expiry would discard the last good set.
      cacheMaxAge: Infinity,
      cooldownDuration: opts.cooldownMs,
      timeoutDuration: opts.timeoutMs ?? 5000,
      ...(opts.fetch ? { [customFetch]: opts.fetch } : {}),
    });
    this.resolver = (header, token) => this.resolve(header, token);
  }

  /** First fetch (never throws: failure leaves the issuer not ready) and the background refresh. */
  async start(): Promise<void> {
    await this.refresh();
    if (!this.timer) {
      this.timer = setInterval(() => void this.refresh(), this.refreshIntervalMs);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private coolingDown(): boolean {
    return Date.now() - this.lastAttempt < this.cooldownMs;
  }

  /** Fetches now (concurrent callers share one fetch). Resolves true when the set was replaced. */
  refresh(): Promise<boolean> {
    if (this.pending) return this.pending;
    this.lastAttempt = Date.now();
    this.fetches++;
    this.pending = this.remote
      .reload()
      .then(() => {
        const jwks = this.remote.jwks() as JSONWebKeySet | undefined;
        if (!jwks || jwks.keys.length === 0) throw new Error('JWKS has no keys');
        this.local = createLocalJWKSet(jwks);
        this.lastGood = jwks;
        this.lastSuccess = new Date();
        this.lastError = null;
        return true;
      })
      .catch((err: unknown) => {
        this.lastError = describeError(err);
        return false;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  private async resolve(...args: Parameters<KeyResolver>): ReturnType<KeyResolver> {
    let local = this.local;
    if (!local) {
      // Never fetched successfully: try again, but no more than once per cooldown.
      if (this.pending) await this.pending;
      else if (!this.coolingDown()) await this.refresh();
      local = this.local;
      if (!local) throw new KeysUnavailableError(this.issuer, this.lastError);
    }
    try {
      return await local(...args);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // Unknown kid: maybe the issuer rotated. Refetch, at most once per cooldown.
      if (this.pending) await this.pending;
      else if (!this.coolingDown()) await this.refresh();
      if (this.local && this.local !== local) return this.local(...args);
      throw err;
    }
  }

  /** The resolver of the key set in use: a new object whenever a fetch replaces the set. */
  version(): unknown {
    return this.local;
  }

  /** The key set being served (null until the first successful fetch). */
  keys(): JSONWebKeySet | null {
    return this.lastGood;
  }

  status(): IssuerStatus {
    const ready = this.local !== null;
    const overdue = this.lastSuccess !== null && Date.now() - this.lastSuccess.getTime() > 2 * this.refreshIntervalMs;
    return {
      issuer: this.issuer,
      lastSuccess: this.lastSuccess,
      lastError: this.lastError,
      stale: ready && (this.lastError !== null || overdue),
      ready,
    };
  }
}

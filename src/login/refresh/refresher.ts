// Background identity refresh, never on the request path. Every tick this instance leases the due
// grants (store/live-types.ts: sessions in use since their last refresh, or failing; with
// PostgreSQL FOR UPDATE SKIP LOCKED, so each session is refreshed by one instance), asks the IdP
// (idp.ts), and then:
//   ok          new groups/claims go through IdentityChanges (source `refresh`, in the history);
//               the rotated refresh token is sealed back; stale_at moves forward
//   rejected    invalid_grant, a disabled account …: the session is revoked (`idp_refresh_failed`)
//   unreachable retried soon; past refresh_max_stale the identity is stale (401 `identity_stale`)
// Each tick also loads the stale sessions into the set the authenticate stage checks.
import type { GatewayConfig } from '../../config/types.js';
import type { IdentityChanges, IdentityPatch } from '../../identity/changes.js';
import { unchanged } from '../../identity/live.js';
import type { StaleIdentities } from '../../identity/stale.js';
import type { Logger } from '../../log.js';
import type { RefreshGrant, RefreshOutcome, RefreshStore } from '../../store/live-types.js';
import type { SessionRecord } from '../../store/types.js';
import { OidcProvider } from '../oidc.js';
import type { Provider } from '../providers.js';
import type { RefreshGrants } from './grants.js';
import { refreshAtIdp, type RefreshAnswer } from './idp.js';

/** Grants leased per claim, claims per tick, refreshes in flight at once. */
const BATCH = 200;
const MAX_CLAIMS_PER_TICK = 10;
const PARALLEL = 8;
/** A leased grant returns to the pool after this (an instance that died mid-refresh). */
const LEASE_MS = 60_000;
/** After a failed attempt, the next one comes after at most this. */
const RETRY_MS = 30_000;
const PURGE_EVERY_MS = 60_000;
/** Claims that the mapping owns (set as the identity's fields, not as extra claims). */
const CORE = new Set(['sub', 'email', 'name', 'groups', 'idp', 'amr']);
/** Claims every session token carries from the gateway itself: never the IdP's to drop. */
const OWN = new Set([...CORE, 'login_id', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);

type Settled = { sessionId: string; outcome: RefreshOutcome };

export interface RefresherDeps {
  logger: Logger;
  store: RefreshStore;
  grants: RefreshGrants;
  changes: IdentityChanges;
  stale: StaleIdentities;
  config(): GatewayConfig;
  providers(config: GatewayConfig): Map<string, Provider>;
  session(id: string): Promise<SessionRecord | null>;
  counted(idp: string, outcome: 'unchanged' | 'changed' | 'revoked' | 'unreachable' | 'stale'): void;
}

/** How often to look for due grants: a quarter of the shortest refresh, between 100 ms and 5 s. */
export function tickMs(config: GatewayConfig): number | null {
  const every = config.identityProviders.flatMap((p) => (p.refreshMs === undefined ? [] : [p.refreshMs]));
  if (every.length === 0) return null;
  return Math.min(5000, Math.max(100, Math.floor(Math.min(...every) / 4)));
}

export class Refresher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastPurge = 0;
  private closed = false;

  constructor(private readonly d: RefresherDeps) {}

  /** (Re)schedules for the config: no timer at all when no provider refreshes. */
  schedule(config: GatewayConfig): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const every = tickMs(config);
    if (every === null || this.closed) {
      this.d.stale.replace([]);
      return;
    }
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  /** One pass (also for tests and the benchmark); overlapping ticks are skipped. */
  tick(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: unknown) => this.d.logger.warn({ err }, 'identity refresh pass failed; retrying at the next tick'))
      .finally(() => (this.running = null));
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async pass(): Promise<void> {
    const config = this.d.config();
    const providers = this.d.providers(config);
    for (let i = 0; i < MAX_CLAIMS_PER_TICK && !this.closed; i++) {
      const due = await this.d.store.claim(Date.now(), BATCH, LEASE_MS);
      // The batch's outcomes are written together: one commit per batch, not one per refresh.
      const settled: Settled[] = [];
      await inParallel(due, PARALLEL, (g) =>
        this.one(g, providers, settled).catch((err: unknown) => this.d.logger.warn({ err, sessionId: g.sessionId }, 'identity refresh failed; retried when its lease ends')),
      );
      await this.d.store.settleAll(settled);
      if (due.length < BATCH) break;
    }
    const now = Date.now();
    this.d.stale.replace(await this.d.store.stale(now));
    if (now - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.d.store.purge(now);
    }
  }

  private async one(g: RefreshGrant, providers: Map<string, Provider>, settled: Settled[]): Promise<void> {
    const provider = providers.get(g.idp);
    const session = await this.d.session(g.sessionId);
    // Refresh turned off for the provider, the provider removed, the session gone: nothing to do.
    if (!(provider instanceof OidcProvider) || provider.cfg.refreshMs === undefined || !session || session.revokedAt !== null) {
      await this.d.store.remove(g.sessionId);
      return;
    }
    const token = this.d.grants.open(g);
    const answer: RefreshAnswer = token ? await refreshAtIdp(provider, token, session.userId) : { kind: 'rejected', why: 'refresh_token_unreadable' };
    const now = Date.now();
    const every = provider.cfg.refreshMs;
    if (answer.kind === 'ok') {
      // The session as it is now (another channel may have changed it during the round trip): when
      // the IdP's answer changes nothing, IdentityChanges is not asked (it would find the session
      // again and conclude the same); otherwise it applies the patch to its own fresh read.
      const current = await this.d.session(g.sessionId);
      const patch = patchOf(answer.claims, claimsBefore(current ?? session));
      const changed = current && unchanged(current, patch) ? 0 : await this.d.changes.update({ sessionId: g.sessionId }, patch, 'refresh');
      const sealed = answer.refreshToken ? this.d.grants.seal(g.sessionId, answer.refreshToken) : undefined;
      settled.push({ sessionId: g.sessionId, outcome: { ok: true, at: now, nextAt: now + every, staleAt: now + provider.cfg.refreshMaxStaleMs, ...(sealed ? { sealed } : {}) } });
      this.d.stale.delete(g.sessionId);
      this.d.counted(provider.id, changed > 0 ? 'changed' : 'unchanged');
    } else if (answer.kind === 'rejected') {
      this.d.logger.info({ idp: provider.id, sessionId: g.sessionId, why: answer.why }, 'identity refresh refused by the provider; revoking the session');
      await this.d.changes.revoke({ sessionId: g.sessionId }, 'refresh', 'idp_refresh_failed', answer.why);
      await this.d.store.remove(g.sessionId);
      this.d.counted(provider.id, 'revoked');
    } else {
      const stale = now >= g.staleAt;
      this.d.logger.warn({ idp: provider.id, sessionId: g.sessionId, error: answer.why, stale }, 'identity refresh failed: provider unreachable');
      settled.push({ sessionId: g.sessionId, outcome: { ok: false, at: now, nextAt: now + Math.min(every, RETRY_MS) } });
      this.d.counted(provider.id, stale ? 'stale' : 'unreachable');
    }
  }
}

/**
 * The IdP's current answer as a change: groups replace the token's, name and other claims are set,
 * and a claim the identity had (from sign-in or an earlier change) that the IdP no longer sends is
 * removed (null) — never kept from the old identity.
 */
export function patchOf(claims: Record<string, unknown>, before: Record<string, unknown> = {}): IdentityPatch {
  const extra: Record<string, unknown> = Object.fromEntries(Object.entries(claims).filter(([k]) => !CORE.has(k)));
  for (const [k, v] of Object.entries(before)) if (!OWN.has(k) && v !== null && v !== undefined && !(k in extra)) extra[k] = null;
  return {
    groups: { mode: 'replace', values: Array.isArray(claims.groups) ? (claims.groups as string[]) : [] },
    ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
    ...(Object.keys(extra).length > 0 ? { claims: extra } : {}),
  };
}

/** The claims a session's identity has now: its token's, with the live changes laid over. */
function claimsBefore(s: SessionRecord): Record<string, unknown> {
  const live = (s.liveState as { claims?: Record<string, unknown> } | null)?.claims;
  return { ...s.claims, ...live };
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

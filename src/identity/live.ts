// IdentityChanges, implemented: find the live sessions a change matches (in the store, after
// flushing what is still queued), then revoke them (durable first) or lay the patched identity
// over them with a new version, which the next request on this process is decided on.
import type { Logger } from '../log.js';
import type { SessionRecord, Store } from '../store/types.js';
import { describeMatch, type ChangeSource, type IdentityChanges, type IdentityPatch, type SessionMatch } from './changes.js';
import { liveIdentity, patchState, type IdentityOverlay, type LiveState } from './overlay.js';
import { diffIdentity } from '../store/identity-diff.js';
import type { Identity } from '../policy/types.js';

export interface LiveIdentityDeps {
  store: Store;
  overlay: IdentityOverlay;
  logger: Logger;
  /** Writes the audit records still queued (a session signed in a moment ago). */
  flush(): Promise<void>;
  /** Durable, then refused in memory; returns the ids it revoked. */
  revokeSessions(ids: string[], by: string, reason: string): Promise<string[]>;
  /** The OIDC providers whose issuer is this URL (for `{issuer, subject}` matches). */
  providersWithIssuer(issuer: string): string[];
}

/** Sessions per page when a match walks the session list. */
const PAGE = 500;

export class LiveIdentity implements IdentityChanges {
  constructor(private readonly d: LiveIdentityDeps) {}

  async revoke(match: SessionMatch, source: ChangeSource, reason: string, eventId?: string): Promise<string[]> {
    const sessions = await this.sessions(match);
    if (sessions.length === 0) return [];
    const ids = await this.d.revokeSessions(
      sessions.map((s) => s.id),
      source,
      reason,
    );
    this.d.logger.info({ source, match: describeMatch(match), eventId, reason, sessions: ids.length }, 'live identity: sessions revoked');
    return ids;
  }

  async update(match: SessionMatch, patch: IdentityPatch, source: ChangeSource, eventId?: string): Promise<number> {
    if (patch.active === false) return (await this.revoke(match, source, 'deactivated', eventId)).length;
    const sessions = await this.sessions(match);
    let changed = 0;
    for (const s of sessions) {
      const prev: LiveState = this.d.overlay.state(s.id) ?? { version: 0 };
      const next = patchState(prev, patch, source);
      const base = baseIdentity(s);
      const before = liveIdentity(base, prev);
      const after = liveIdentity(base, next);
      const diff = diffIdentity(before, after);
      const amrChanged = before.amr.join(' ') !== after.amr.join(' ');
      if (!diff && !amrChanged && before.name === after.name) continue;
      next.version = prev.version + 1;
      this.d.overlay.set(s.id, next);
      changed++;
    }
    if (changed > 0) this.d.logger.info({ source, match: describeMatch(match), eventId, sessions: changed }, 'live identity: sessions updated');
    return changed;
  }

  /** The live sessions (not revoked, not expired) the match names. */
  private async sessions(match: SessionMatch, now = Date.now()): Promise<SessionRecord[]> {
    await this.d.flush();
    const live = (s: SessionRecord) => s.revokedAt === null && s.expiresAt > now;
    const store = this.d.store;
    if ('sessionId' in match) {
      const s = await store.getSession(match.sessionId);
      return s && live(s) ? [s] : [];
    }
    if ('email' in match) return (await store.userSessions(match.email)).filter(live);
    if ('sid' in match) return [];
    const providers = new Set(this.d.providersWithIssuer(match.issuer));
    const out: SessionRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listSessions({ user: match.subject, active: true, now, limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (const s of page.items) if (s.issuer === match.issuer || (s.idp !== null && providers.has(s.idp))) out.push(s);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }
}

/** The identity a recorded session was signed in with (what the overlay's changes are relative to). */
function baseIdentity(s: SessionRecord): Identity {
  return {
    kind: s.kind,
    sessionId: s.id,
    subject: s.userId,
    ...(s.email ? { email: s.email } : {}),
    ...(s.name ? { name: s.name } : {}),
    groups: s.groups,
    ...(s.idp ? { idp: s.idp } : {}),
    amr: s.amr,
    issuer: s.issuer,
    claims: s.claims,
    issuedAt: Math.floor(s.issuedAt / 1000),
    expiresAt: Math.floor(s.expiresAt / 1000),
  };
}

// IdentityChanges, implemented: find the live sessions a change matches (in the store, after
// flushing what is still queued), then revoke them (durable first) or write each one's next
// identity version with its history entry (one durable transaction, NOTIFY'd to other instances)
// and lay it over the cached identity, so the next request is decided on it.
import type { Logger } from '../log.js';
import type { Identity } from '../policy/types.js';
import { diffIdentity } from '../store/identity-diff.js';
import type { IdentityChange, SessionRecord, SessionSelector, Store } from '../store/types.js';
import { describeMatch, type ChangeSource, type IdentityChanges, type IdentityPatch, type SessionMatch } from './changes.js';
import { diffDevice } from './device-diff.js';
import { liveIdentity, patchState, type IdentityOverlay, type LiveState } from './overlay.js';

export interface LiveIdentityDeps {
  store: Store;
  overlay: IdentityOverlay;
  logger: Logger;
  /** Writes the audit records still queued (a session signed in a moment ago). */
  flush(): Promise<void>;
  /** Durable (with the history entries, one transaction), then refused in memory; returns the ids it revoked. */
  revokeSessions(ids: string[], by: string, reason: string, history: IdentityChange[]): Promise<string[]>;
  /** The OIDC providers whose issuer is this URL (for `{issuer, subject}` matches). */
  providersWithIssuer(issuer: string): string[];
  /** Every accepted change, for metrics: how many sessions it touched. */
  changed?(source: ChangeSource, kind: 'revoke' | 'update', sessions: number): void;
}

/** Attempts per session when another instance writes the same session's identity concurrently. */
const WRITE_ATTEMPTS = 3;

export class LiveIdentity implements IdentityChanges {
  constructor(private readonly d: LiveIdentityDeps) {}

  async revoke(match: SessionMatch, source: ChangeSource, reason: string, eventId?: string): Promise<string[]> {
    const sessions = await this.sessions(match);
    if (sessions.length === 0) return [];
    const now = Date.now();
    // One transaction for the set, with the history entries (the record of who asked): a user's
    // 100 sessions cost one durable commit and one notification, not 100.
    const ids = await this.d.revokeSessions(
      sessions.map((s) => s.id),
      source,
      reason,
      sessions.map((s) => entry(s, now, { revoked: { reason } }, source, null, eventId)),
    );
    this.d.overlay.forget(ids);
    this.d.logger.info({ source, match: describeMatch(match), eventId, reason, sessions: ids.length }, 'live identity: sessions revoked');
    this.d.changed?.(source, 'revoke', ids.length);
    return ids;
  }

  async update(match: SessionMatch, patch: IdentityPatch, source: ChangeSource, eventId?: string): Promise<number> {
    if (patch.active === false) return (await this.revoke(match, source, 'deactivated', eventId)).length;
    let changed = 0;
    for (const found of await this.sessions(match)) {
      let s: SessionRecord | undefined = found;
      for (let attempt = 0; s && attempt < WRITE_ATTEMPTS; attempt++) {
        const result = await this.write(s, patch, source, eventId);
        if (result !== 'conflict') {
          if (result === 'changed') changed++;
          break;
        }
        // Another instance wrote this session's identity meanwhile: build on its version.
        [s] = await this.d.store.identities.find({ id: found.id }, Date.now());
      }
    }
    if (changed > 0) this.d.logger.info({ source, match: describeMatch(match), eventId, sessions: changed }, 'live identity: sessions updated');
    this.d.changed?.(source, 'update', changed);
    return changed;
  }

  /** Loads the states newer than this process's (another instance's changes, or all at start). */
  async load(versions: Array<{ sessionId: string; version: number }>): Promise<void> {
    const newer = versions.filter((v) => v.version > this.d.overlay.version(v.sessionId)).map((v) => v.sessionId);
    if (newer.length === 0) return;
    for (const row of await this.d.store.identities.states(newer)) this.d.overlay.set(row.sessionId, { ...(row.state as unknown as LiveState), version: row.version });
  }

  private async write(s: SessionRecord, patch: IdentityPatch, source: ChangeSource, eventId: string | undefined): Promise<'changed' | 'same' | 'conflict'> {
    const prev: LiveState = { ...((s.liveState ?? {}) as Partial<LiveState>), version: s.identityVersion ?? 0 };
    const next = patchState(prev, patch, source);
    const base = baseIdentity(s);
    const before = liveIdentity(base, prev);
    const after = liveIdentity(base, next);
    const change: IdentityChange['change'] = diffIdentity(before, after) ?? {};
    if (before.amr.join(' ') !== after.amr.join(' ')) change.amr = { before: before.amr, after: after.amr };
    if (before.name !== after.name) change.claims = { changed: [...new Set([...(change.claims?.changed ?? []), 'name'])].sort() };
    const device = patch.device;
    if (device && prev.devices?.[device.id] !== device.compliance) change.device = { id: device.id, before: prev.devices?.[device.id] ?? null, after: device.compliance };
    const bound = diffDevice(before.device, after.device);
    if (bound) change.boundDevice = bound;
    if (Object.keys(change).length === 0) return 'same';
    next.version = prev.version + 1;
    const ok = await this.d.store.identities.write({
      sessionId: s.id,
      expected: prev.version,
      version: next.version,
      state: next as unknown as Record<string, unknown>,
      change: entry(s, Date.now(), change, source, next.version, eventId),
    });
    if (!ok) return 'conflict';
    this.d.overlay.set(s.id, next);
    return 'changed';
  }

  /** The live sessions (not revoked, not expired) the match names. */
  private async sessions(match: SessionMatch): Promise<SessionRecord[]> {
    await this.d.flush();
    const found = await this.d.store.identities.find(this.selector(match), Date.now());
    // sid and sub together: the IdP session's sessions of that subject only (Back-Channel Logout 2.6).
    return 'sid' in match && match.subject !== undefined ? found.filter((s) => s.userId === match.subject) : found;
  }

  private selector(m: SessionMatch): SessionSelector {
    if ('sessionId' in m) return { id: m.sessionId };
    if ('email' in m) return { email: m.email };
    if ('sid' in m) return { idp: m.provider, sid: m.sid };
    if ('provider' in m) return { userId: m.subject, issuers: [], idps: [m.provider] };
    return { userId: m.subject, issuers: [m.issuer], idps: this.d.providersWithIssuer(m.issuer) };
  }
}

function entry(s: SessionRecord, time: number, change: IdentityChange['change'], source: ChangeSource, version: number | null, eventId: string | undefined): IdentityChange {
  return { email: s.email ?? '', time, sessionId: s.id, change, source, version, eventId: eventId ?? null };
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

/**
 * True when `patch` (a refresh's: groups, name, claims) leaves the session's live identity exactly
 * as it is, by the test write() applies before it writes a new version (groups, non per-token
 * claims, name). The refresher uses it to skip update() (a flush, a find, this diff) when the
 * IdP's answer changes nothing; a patch with any other field is never skipped.
 */
export function unchanged(s: SessionRecord, patch: IdentityPatch): boolean {
  if (patch.amr || patch.device || patch.boundDevice !== undefined || patch.active !== undefined) return false;
  const prev: LiveState = { ...((s.liveState ?? {}) as Partial<LiveState>), version: s.identityVersion ?? 0 };
  const base = baseIdentity(s);
  const before = liveIdentity(base, prev);
  const after = liveIdentity(base, patchState(prev, patch, 'refresh'));
  return before.name === after.name && diffIdentity(before, after) === null;
}

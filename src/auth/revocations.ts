// The in-memory set of revoked sessions every cache hit consults, so a revoked session is refused on
// its very next request without a store round trip. Filled from the store at start and kept current
// by the session-audit code; an EventEmitter so open WebSockets of a revoked session can be closed.
import { EventEmitter } from 'node:events';
import type { Identity } from '../policy/types.js';
import type { RevocationState } from '../store/types.js';

export type RevocationEvent = { sessionId: string } | { app: string; before: number };

export class RevocationSet extends EventEmitter<{ revoked: [RevocationEvent] }> {
  private readonly sessions = new Set<string>();
  private readonly cutoffs = new Map<string, number>();

  revokeSession(id: string): void {
    if (this.sessions.has(id)) return;
    this.sessions.add(id);
    this.emit('revoked', { sessionId: id });
  }

  /** Sessions issued before `epochMs` must sign in again for `app`. Only ever moves forward. */
  revokeAppBefore(app: string, epochMs: number): void {
    const prev = this.cutoffs.get(app);
    if (prev !== undefined && prev >= epochMs) return;
    this.cutoffs.set(app, epochMs);
    this.emit('revoked', { app, before: epochMs });
  }

  /**
   * The hot-path check: two hash lookups. App cutoffs apply to login sessions and external tokens
   * (their iat); service tokens are revoked by id ('svc:<name>') or by removing them from the config,
   * since their issuedAt is only the time the gateway last checked the secret.
   */
  isRevoked(identity: Identity, appName: string): boolean {
    if (this.sessions.size !== 0 && this.sessions.has(identity.sessionId)) return true;
    if (this.cutoffs.size === 0 || identity.kind === 'service') return false;
    const cutoff = this.cutoffs.get(appName);
    return cutoff !== undefined && identity.issuedAt * 1000 < cutoff;
  }

  /** Merges a snapshot from the store (start, or a periodic resync); announces what is new. */
  load(state: RevocationState): void {
    for (const id of state.sessionIds) this.revokeSession(id);
    for (const [app, at] of Object.entries(state.appCutoffs)) this.revokeAppBefore(app, at);
  }

  /** Forgets sessions that can no longer be presented anyway (expired), keeping memory bounded. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  snapshot(): RevocationState {
    return { sessionIds: [...this.sessions], appCutoffs: Object.fromEntries(this.cutoffs) };
  }
}

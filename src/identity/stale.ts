// Sessions whose identity is stale: the IdP could not be asked (refresh failing) for longer than the
// provider's refresh_max_stale. Every instance loads the set from the store (login/refresh/) and
// the authenticate stage refuses these sessions with 401 `identity_stale` — one Set.size check on
// the request path when nothing is stale, which is nearly always. Sessions that just became stale
// are announced ('stale'), so their open WebSockets are closed like a revoked session's.
import { EventEmitter } from 'node:events';

export class StaleIdentities extends EventEmitter<{ stale: [sessionIds: string[]] }> {
  private ids = new Set<string>();

  get size(): number {
    return this.ids.size;
  }

  has(sessionId: string): boolean {
    return this.ids.has(sessionId);
  }

  /** Replaces the whole set (the store's answer at one moment). */
  replace(ids: Iterable<string>): void {
    const before = this.ids;
    this.ids = new Set(ids);
    const added = [...this.ids].filter((id) => !before.has(id));
    if (added.length > 0) this.emit('stale', added);
  }

  /** A refresh just succeeded here: valid again before the next load. */
  delete(sessionId: string): void {
    this.ids.delete(sessionId);
  }
}

// Sessions whose identity is stale: the IdP could not be asked (refresh failing) for longer than the
// provider's refresh_max_stale. Every instance loads the set from the store (login/refresh/) and
// the authenticate stage refuses these sessions with 401 `identity_stale` — one Set.size check on
// the request path when nothing is stale, which is nearly always.
export class StaleIdentities {
  private ids = new Set<string>();

  get size(): number {
    return this.ids.size;
  }

  has(sessionId: string): boolean {
    return this.ids.has(sessionId);
  }

  /** Replaces the whole set (the store's answer at one moment). */
  replace(ids: Iterable<string>): void {
    this.ids = new Set(ids);
  }

  /** A refresh just succeeded here: valid again before the next load. */
  delete(sessionId: string): void {
    this.ids.delete(sessionId);
  }
}

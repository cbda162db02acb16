// What identity refresh keeps in the store: each refreshable session's sealed refresh token with
// its schedule and a lease (one instance refreshes a session at a time). Event ids already acted on
// (back-channel logout tokens) are in event-types.ts. Times are epoch milliseconds.

/** One session's refresh grant. `sealed` is the refresh token encrypted (AES-GCM): never in clear. */
export interface RefreshGrant {
  sessionId: string;
  idp: string;
  sealed: string;
  /** When to refresh next (the session must also have been in use since the last attempt). */
  nextAt: number;
  lastAttemptAt: number;
  /** Last successful refresh (sign-in counts as one). */
  lastOkAt: number;
  /** lastOkAt + the provider's refresh_max_stale: past it, a failing session's identity is stale. */
  staleAt: number;
  /** First failed attempt since the last success (the IdP unreachable, say); null when not failing. */
  failingSince: number | null;
}

export interface RefreshOutcome {
  ok: boolean;
  at: number;
  nextAt: number;
  /** Success only: a rotated refresh token, sealed. */
  sealed?: string;
  /** Success only: the new stale_at. */
  staleAt?: number;
}

export interface RefreshStore {
  /** Inserts or replaces the session's grant (at sign-in). */
  put(g: Omit<RefreshGrant, 'failingSince'>): Promise<void>;
  /**
   * Leases up to `limit` grants that are due at `now` — session live (not revoked, not expired) and
   * in use since the last attempt, or failing — until `now + leaseMs`: no other caller (instance)
   * gets them before the lease ends or the outcome is written.
   */
  claim(now: number, limit: number, leaseMs: number): Promise<RefreshGrant[]>;
  /** Writes an attempt's outcome and ends its lease. */
  settle(sessionId: string, outcome: RefreshOutcome): Promise<void>;
  /** Writes several attempts' outcomes in one transaction (a refresher pass's batch: one commit, not one each). */
  settleAll(outcomes: Array<{ sessionId: string; outcome: RefreshOutcome }>): Promise<void>;
  remove(sessionId: string): Promise<void>;
  /** Sessions whose identity is stale at `now`: failing, and past their stale_at. */
  stale(now: number): Promise<string[]>;
  /** Deletes grants of sessions that are gone, revoked or expired. */
  purge(now: number): Promise<number>;
}

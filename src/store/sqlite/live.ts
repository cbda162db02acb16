// The SQLite side of identity refresh grants (store/live-types.ts). One process writes the file,
// so an IMMEDIATE transaction is the lease's lock.
import type Database from 'better-sqlite3';
import { durably } from './db.js';
import type { RefreshGrant, RefreshOutcome, RefreshStore } from '../live-types.js';
import { grantFromRow, type GrantRow } from '../live-rows.js';

export class SqliteRefreshStore implements RefreshStore {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      put: db.prepare(`INSERT INTO session_refresh (session_id, idp, sealed, next_at, last_attempt_at, last_ok_at, stale_at, failing_since, lease_until)
        VALUES (@sessionId, @idp, @sealed, @nextAt, @lastAttemptAt, @lastOkAt, @staleAt, NULL, 0)
        ON CONFLICT (session_id) DO UPDATE SET idp = excluded.idp, sealed = excluded.sealed, next_at = excluded.next_at,
          last_attempt_at = excluded.last_attempt_at, last_ok_at = excluded.last_ok_at, stale_at = excluded.stale_at, failing_since = NULL, lease_until = 0`),
      due: db.prepare(`SELECT r.* FROM session_refresh r JOIN sessions s ON s.id = r.session_id
        WHERE r.next_at <= @now AND r.lease_until <= @now AND s.revoked_at IS NULL AND s.expires_at > @now
          AND (s.last_seen_at > r.last_attempt_at OR r.failing_since IS NOT NULL)
        ORDER BY r.next_at LIMIT @limit`),
      lease: db.prepare('UPDATE session_refresh SET lease_until = ? WHERE session_id = ?'),
      ok: db.prepare(`UPDATE session_refresh SET sealed = coalesce(@sealed, sealed), next_at = @nextAt, last_attempt_at = @at, last_ok_at = @at,
        stale_at = @staleAt, failing_since = NULL, lease_until = 0 WHERE session_id = @sessionId`),
      failed: db.prepare(`UPDATE session_refresh SET next_at = @nextAt, last_attempt_at = @at, failing_since = coalesce(failing_since, @at),
        lease_until = 0 WHERE session_id = @sessionId`),
      remove: db.prepare('DELETE FROM session_refresh WHERE session_id = ?'),
      stale: db.prepare('SELECT session_id FROM session_refresh WHERE failing_since IS NOT NULL AND stale_at <= ? ORDER BY session_id'),
      purgeGrants: db.prepare(`DELETE FROM session_refresh WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = session_id AND s.revoked_at IS NULL AND s.expires_at > ?)
        AND last_attempt_at < ?`),
    };
  }

  async put(g: Omit<RefreshGrant, 'failingSince'>): Promise<void> {
    await durably(this.db, () => this.st.put.run(g));
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<RefreshGrant[]> {
    return durably(this.db, () => {
      const rows = this.st.due.all({ now, limit }) as GrantRow[];
      for (const r of rows) this.st.lease.run(now + leaseMs, r.session_id);
      return rows.map(grantFromRow);
    });
  }

  async settle(sessionId: string, o: RefreshOutcome): Promise<void> {
    await this.settleAll([{ sessionId, outcome: o }]);
  }

  async settleAll(outcomes: Array<{ sessionId: string; outcome: RefreshOutcome }>): Promise<void> {
    if (outcomes.length === 0) return;
    await durably(this.db, () => {
      for (const { sessionId, outcome: o } of outcomes) {
        if (o.ok) this.st.ok.run({ sessionId, sealed: o.sealed ?? null, nextAt: o.nextAt, at: o.at, staleAt: o.staleAt ?? o.nextAt });
        else this.st.failed.run({ sessionId, nextAt: o.nextAt, at: o.at });
      }
    });
  }

  async remove(sessionId: string): Promise<void> {
    await durably(this.db, () => this.st.remove.run(sessionId));
  }

  async stale(now: number): Promise<string[]> {
    return (this.st.stale.all(now) as Array<{ session_id: string }>).map((r) => r.session_id);
  }

  async purge(now: number): Promise<number> {
    // A grant written a moment ago may precede its session's row (the audit queue): keep it a while.
    return durably(this.db, () => this.st.purgeGrants.run(now, now - 60_000).changes);
  }
}

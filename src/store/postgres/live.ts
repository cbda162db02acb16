// The PostgreSQL side of identity refresh grants (store/live-types.ts). Due grants are leased
// with FOR UPDATE SKIP LOCKED plus a lease time written in the same statement: instances claiming
// at the same moment get disjoint sets, and a grant stays with its instance until the outcome is
// written or the lease ends (an instance that died mid-refresh).
import type pg from 'pg';
import { inTransaction, pgInt, pgText, type Tables } from './db.js';
import type { RefreshGrant, RefreshOutcome, RefreshStore } from '../live-types.js';
import { grantFromRow, type GrantRow } from '../live-rows.js';

function statements(t: Tables) {
  return {
    put: `INSERT INTO ${t.refresh} (session_id, idp, sealed, next_at, last_attempt_at, last_ok_at, stale_at, failing_since, lease_until)
      VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0)
      ON CONFLICT (session_id) DO UPDATE SET idp = EXCLUDED.idp, sealed = EXCLUDED.sealed, next_at = EXCLUDED.next_at,
        last_attempt_at = EXCLUDED.last_attempt_at, last_ok_at = EXCLUDED.last_ok_at, stale_at = EXCLUDED.stale_at, failing_since = NULL, lease_until = 0`,
    claim: `UPDATE ${t.refresh} g SET lease_until = $2 FROM (
        SELECT r.session_id FROM ${t.refresh} r JOIN ${t.sessions} s ON s.id = r.session_id
        WHERE r.next_at <= $1 AND r.lease_until <= $1 AND s.revoked_at IS NULL AND s.expires_at > $1
          AND (s.last_seen_at > r.last_attempt_at OR r.failing_since IS NOT NULL)
        ORDER BY r.next_at LIMIT $3 FOR UPDATE OF r SKIP LOCKED
      ) due WHERE g.session_id = due.session_id RETURNING g.*`,
    ok: `UPDATE ${t.refresh} SET sealed = coalesce($2, sealed), next_at = $3, last_attempt_at = $4, last_ok_at = $4,
      stale_at = $5, failing_since = NULL, lease_until = 0 WHERE session_id = $1`,
    failed: `UPDATE ${t.refresh} SET next_at = $2, last_attempt_at = $3, failing_since = coalesce(failing_since, $3), lease_until = 0
      WHERE session_id = $1`,
    remove: `DELETE FROM ${t.refresh} WHERE session_id = $1`,
    stale: `SELECT session_id FROM ${t.refresh} WHERE failing_since IS NOT NULL AND stale_at <= $1 ORDER BY session_id`,
    purgeGrants: `DELETE FROM ${t.refresh} r WHERE NOT EXISTS (SELECT 1 FROM ${t.sessions} s WHERE s.id = r.session_id AND s.revoked_at IS NULL AND s.expires_at > $1)
      AND r.last_attempt_at < $2`,
  };
}

export class PostgresRefreshStore implements RefreshStore {
  private readonly st: ReturnType<typeof statements>;

  constructor(
    private readonly pool: pg.Pool,
    t: Tables,
  ) {
    this.st = statements(t);
  }

  async put(g: Omit<RefreshGrant, 'failingSince'>): Promise<void> {
    await this.pool.query(this.st.put, [pgText(g.sessionId), pgText(g.idp), g.sealed, pgInt(g.nextAt), pgInt(g.lastAttemptAt), pgInt(g.lastOkAt), pgInt(g.staleAt)]);
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<RefreshGrant[]> {
    const r = await this.pool.query<GrantRow>(this.st.claim, [pgInt(now), pgInt(now + leaseMs), limit]);
    return r.rows.map(grantFromRow).sort((a, b) => a.nextAt - b.nextAt);
  }

  async settle(sessionId: string, o: RefreshOutcome): Promise<void> {
    await this.write(this.pool, sessionId, o);
  }

  async settleAll(outcomes: Array<{ sessionId: string; outcome: RefreshOutcome }>): Promise<void> {
    if (outcomes.length === 0) return;
    await inTransaction(this.pool, async (c) => {
      for (const { sessionId, outcome } of outcomes) await this.write(c, sessionId, outcome);
    });
  }

  private async write(c: pg.Pool | pg.ClientBase, sessionId: string, o: RefreshOutcome): Promise<void> {
    if (o.ok) await c.query(this.st.ok, [pgText(sessionId), o.sealed ?? null, pgInt(o.nextAt), pgInt(o.at), pgInt(o.staleAt ?? o.nextAt)]);
    else await c.query(this.st.failed, [pgText(sessionId), pgInt(o.nextAt), pgInt(o.at)]);
  }

  async remove(sessionId: string): Promise<void> {
    await this.pool.query(this.st.remove, [pgText(sessionId)]);
  }

  async stale(now: number): Promise<string[]> {
    return (await this.pool.query<{ session_id: string }>(this.st.stale, [pgInt(now)])).rows.map((r) => r.session_id);
  }

  async purge(now: number): Promise<number> {
    // A grant written a moment ago may precede its session's row (the audit queue): keep it a while.
    const a = await this.pool.query(this.st.purgeGrants, [pgInt(now), pgInt(now - 60_000)]);
    return a.rowCount ?? 0;
  }
}

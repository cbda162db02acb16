// The PostgreSQL side of live identity (store/types.ts IdentityStore). A new identity version is
// written with its history entry in one durable transaction that NOTIFYs the other instances on
// commit (notify.ts), so each lays the new identity over its cached one milliseconds later.
import type pg from 'pg';
import { inTransaction, pgInt, pgJson, pgText, type Tables } from './db.js';
import { notifyRevocations } from './notify.js';
import { changeFromPg, sessionFromPg, type PgChangeRow, type PgSessionRow } from './rows.js';
import { entriesOf } from '../revoke-batch.js';
import type { IdentityChange, IdentityStore, IdentityVersionWrite, LiveIdentityRow, SessionRecord, SessionSelector } from '../types.js';

const LIVE = 'revoked_at IS NULL AND expires_at > $1';

function statements(t: Tables) {
  return {
    byId: `SELECT * FROM ${t.sessions} WHERE id = $2 AND ${LIVE}`,
    byEmail: `SELECT * FROM ${t.sessions} WHERE lower(email) = lower($2) AND ${LIVE} ORDER BY issued_at, id`,
    byUser: `SELECT * FROM ${t.sessions} WHERE user_id = $2 AND ${LIVE}
      AND (issuer = ANY($3::text[]) OR idp = ANY($4::text[])) ORDER BY issued_at, id`,
    bySid: `SELECT * FROM ${t.sessions} WHERE idp = $2 AND idp_sid = $3 AND ${LIVE} ORDER BY issued_at, id`,
    durable: `SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') IN ('off', 'local')`,
    setVersion: `UPDATE ${t.sessions} SET identity_version = $1, live_state = $2::jsonb WHERE id = $3 AND identity_version = $4`,
    insertChange: `INSERT INTO ${t.changes} (email, time, session_id, change, source, version, event_id)
      VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)`,
    revokeIds: `WITH target AS (SELECT id FROM ${t.sessions} WHERE id = ANY($4::text[]) AND revoked_at IS NULL ORDER BY id FOR UPDATE)
      UPDATE ${t.sessions} s SET revoked_at = $1, revoked_by = $2, revoke_reason = $3 FROM target WHERE s.id = target.id RETURNING s.id`,
    insertChanges: `INSERT INTO ${t.changes} (email, time, session_id, change, source, version, event_id)
      SELECT email, time, session_id, change, source, version, event_id FROM jsonb_to_recordset($1::jsonb)
        AS x(email text, time bigint, session_id text, change jsonb, source text, version bigint, event_id text)`,
    sessionHistory: `SELECT * FROM ${t.changes} WHERE session_id = $1 ORDER BY time DESC, id DESC`,
    changed: `SELECT id, identity_version FROM ${t.sessions} WHERE identity_version > 0 AND ${LIVE} ORDER BY id`,
    states: `SELECT id, identity_version, live_state FROM ${t.sessions} WHERE id = ANY($1::text[]) AND identity_version > 0`,
  };
}

export class PostgresIdentityStore implements IdentityStore {
  private readonly st: ReturnType<typeof statements>;

  constructor(
    private readonly pool: pg.Pool,
    t: Tables,
    private readonly schema: string,
  ) {
    this.st = statements(t);
  }

  async find(sel: SessionSelector, now: number): Promise<SessionRecord[]> {
    const at = pgInt(now);
    let res: pg.QueryResult<PgSessionRow>;
    if ('id' in sel) res = await this.pool.query(this.st.byId, [at, pgText(sel.id)]);
    else if ('email' in sel) res = await this.pool.query(this.st.byEmail, [at, pgText(sel.email)]);
    else if ('sid' in sel) res = await this.pool.query(this.st.bySid, [at, pgText(sel.idp), pgText(sel.sid)]);
    else res = await this.pool.query(this.st.byUser, [at, pgText(sel.userId), sel.issuers.map(pgText), sel.idps.map(pgText)]);
    return res.rows.map(sessionFromPg);
  }

  write(w: IdentityVersionWrite): Promise<boolean> {
    return this.durably(async (c) => {
      const res = await c.query(this.st.setVersion, [w.version, pgJson(w.state), pgText(w.sessionId), w.expected]);
      if ((res.rowCount ?? 0) === 0) return false;
      await this.insert(c, w.change);
      await notifyRevocations(c, this.schema, { identities: [{ sessionId: w.sessionId, version: w.version }] });
      return true;
    });
  }

  async record(change: IdentityChange): Promise<void> {
    await this.durably((c) => this.insert(c, change));
  }

  async sessionHistory(id: string): Promise<IdentityChange[]> {
    return (await this.pool.query<PgChangeRow>(this.st.sessionHistory, [pgText(id)])).rows.map(changeFromPg);
  }

  async states(ids: string[]): Promise<LiveIdentityRow[]> {
    if (ids.length === 0) return [];
    const res = await this.pool.query<{ id: string; identity_version: number; live_state: Record<string, unknown> | null }>(this.st.states, [ids.map(pgText)]);
    return res.rows.filter((r) => r.live_state).map((r) => ({ sessionId: r.id, version: r.identity_version, state: r.live_state as Record<string, unknown> }));
  }

  /** Live sessions whose identity changed (for the revocation snapshot). */
  async changed(now: number): Promise<Array<{ sessionId: string; version: number }>> {
    const res = await this.pool.query<{ id: string; identity_version: number }>(this.st.changed, [pgInt(now)]);
    return res.rows.map((r) => ({ sessionId: r.id, version: r.identity_version }));
  }

  /**
   * Store.revokeSessions inside the caller's durable transaction: one UPDATE (rows locked in id
   * order, like batches and the other revocations), the history entries of the sessions it revoked,
   * one notification for the set.
   */
  async revokeIn(c: pg.ClientBase, r: { ids: string[]; by: string; reason: string; at: number; history: IdentityChange[] }): Promise<string[]> {
    const params = [pgInt(r.at), pgText(r.by), pgText(r.reason), [...new Set(r.ids)].map(pgText)];
    const revoked = (await c.query<{ id: string }>(this.st.revokeIds, params)).rows.map((row) => row.id);
    await this.insertMany(c, entriesOf(revoked, r.history));
    await notifyRevocations(c, this.schema, { sessionIds: revoked });
    return revoked;
  }

  /** Several history entries in one statement, inside the caller's transaction. */
  async insertMany(c: pg.ClientBase, changes: IdentityChange[]): Promise<void> {
    if (changes.length === 0) return;
    const rows = changes.map((ch) => ({
      email: ch.email,
      time: pgInt(ch.time),
      session_id: ch.sessionId,
      change: ch.change,
      source: ch.source ?? 'login',
      version: ch.version ?? null,
      event_id: ch.eventId ?? null,
    }));
    await c.query(this.st.insertChanges, [pgJson(rows)]);
  }

  private async insert(c: pg.ClientBase, ch: IdentityChange): Promise<void> {
    await c.query(this.st.insertChange, [
      pgText(ch.email),
      pgInt(ch.time),
      pgText(ch.sessionId),
      pgJson(ch.change),
      pgText(ch.source ?? 'login'),
      ch.version ?? null,
      pgText(ch.eventId ?? null),
    ]);
  }

  private durably<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (c) => {
      await c.query(this.st.durable);
      return fn(c);
    });
  }
}

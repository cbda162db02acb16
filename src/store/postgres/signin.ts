// Sign-in state in PostgreSQL (store/types.ts SignInState), so one sign-in's steps can land on any
// instance. The database enforces single use: a handoff code is taken by DELETE … RETURNING (of two
// instances redeeming it at once, one gets the row); a mark moves forward only through an
// INSERT … ON CONFLICT … WHERE that returns a row when it did; a throttle entry is updated under a
// row lock, so failures counted on different instances at the same moment all count. Expired rows
// are ignored by every read and deleted by the hourly purge.
import type pg from 'pg';
import { inTransaction, pgInt, type Tables } from './db.js';
import type { SignInState, ThrottleEntry } from '../types.js';

interface ThrottleRow {
  key: string;
  failures: number[];
  locked_until: number;
  locked_after: number;
  expires_at: number;
}

const entryOf = (r: ThrottleRow): ThrottleEntry => ({ failures: r.failures, lockedUntil: r.locked_until, lockedAfter: r.locked_after, expiresAt: r.expires_at });

function statements(t: Tables) {
  const cols = 'key, failures, locked_until, locked_after, expires_at';
  return {
    put: `INSERT INTO ${t.signinOnce} (key, value, expires_at) VALUES ($1, $2, $3)
          ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
    take: `DELETE FROM ${t.signinOnce} WHERE key = $1 RETURNING value, expires_at`,
    advance: `INSERT INTO ${t.signinMarks} AS m (key, value, expires_at) VALUES ($1, $2, $3)
              ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
              WHERE m.value < EXCLUDED.value OR m.expires_at <= $4
              RETURNING 1`,
    entries: `SELECT ${cols} FROM ${t.signinThrottle} WHERE key = ANY($1) AND expires_at > $2`,
    locked: `SELECT ${cols} FROM ${t.signinThrottle} WHERE locked_until > $1`,
    // The row to lock must exist: a placeholder that reads as "no entry" (already expired).
    ensure: `INSERT INTO ${t.signinThrottle} (${cols}) VALUES ($1, '[]', 0, 0, 0) ON CONFLICT (key) DO NOTHING`,
    lock: `SELECT ${cols} FROM ${t.signinThrottle} WHERE key = $1 FOR UPDATE`,
    write: `UPDATE ${t.signinThrottle} SET failures = $2, locked_until = $3, locked_after = $4, expires_at = $5 WHERE key = $1`,
    remove: `DELETE FROM ${t.signinThrottle} WHERE key = $1 RETURNING ${cols}`,
    purge: [t.signinOnce, t.signinMarks, t.signinThrottle].map((table) => `DELETE FROM ${table} WHERE expires_at <= $1`),
  };
}

export class PostgresSignInState implements SignInState {
  private readonly st: ReturnType<typeof statements>;

  constructor(
    private readonly pool: pg.Pool,
    tables: Tables,
  ) {
    this.st = statements(tables);
  }

  async putOnce(key: string, value: string, expiresAt: number): Promise<void> {
    await this.pool.query(this.st.put, [key, value, pgInt(expiresAt)]);
  }

  async takeOnce(key: string, now: number): Promise<string | null> {
    const r = await this.pool.query<{ value: string; expires_at: number }>(this.st.take, [key]);
    const row = r.rows[0];
    return row && row.expires_at > now ? row.value : null;
  }

  async advance(key: string, value: number, expiresAt: number, now: number): Promise<boolean> {
    const r = await this.pool.query(this.st.advance, [key, pgInt(value), pgInt(expiresAt), pgInt(now)]);
    return (r.rowCount ?? 0) > 0;
  }

  async throttleEntries(keys: string[], now: number): Promise<Map<string, ThrottleEntry>> {
    const r = await this.pool.query<ThrottleRow>(this.st.entries, [keys, pgInt(now)]);
    return new Map(r.rows.map((row) => [row.key, entryOf(row)]));
  }

  updateThrottle(key: string, now: number, update: (current: ThrottleEntry | null) => ThrottleEntry | null): Promise<ThrottleEntry | null> {
    return inTransaction(this.pool, async (c) => {
      await c.query(this.st.ensure, [key]);
      const row = (await c.query<ThrottleRow>(this.st.lock, [key])).rows[0];
      const next = update(row && row.expires_at > now ? entryOf(row) : null);
      if (next) await c.query(this.st.write, [key, JSON.stringify(next.failures), pgInt(next.lockedUntil), next.lockedAfter, pgInt(next.expiresAt)]);
      else await c.query(this.st.remove, [key]);
      return next;
    });
  }

  async lockedEntries(now: number): Promise<Map<string, ThrottleEntry>> {
    const r = await this.pool.query<ThrottleRow>(this.st.locked, [pgInt(now)]);
    return new Map(r.rows.map((row) => [row.key, entryOf(row)]));
  }

  async deleteThrottle(key: string, now: number): Promise<ThrottleEntry | null> {
    const row = (await this.pool.query<ThrottleRow>(this.st.remove, [key])).rows[0];
    return row && row.expires_at > now ? entryOf(row) : null;
  }

  /** Deletes what has expired; returns how many rows. */
  async purge(now: number): Promise<number> {
    let n = 0;
    for (const sql of this.st.purge) n += (await this.pool.query(sql, [pgInt(now)])).rowCount ?? 0;
    return n;
  }
}

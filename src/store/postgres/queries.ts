// The read side of the PostgreSQL store: lookups, filtered cursor-paginated lists and per-app views,
// the same queries as sqlite-queries.ts. Emails match case-insensitively through lower(email) (the
// expression indexes), ids and app names sort in byte order ("C" collation).
import type pg from 'pg';
import { decodeCursor, encodeCursor, pageLimit } from '../cursor.js';
import { pgInt, pgText, type Tables } from './db.js';
import {
  activityFromPg,
  changeFromPg,
  decisionFromPg,
  sessionFromPg,
  type PgActivityRow,
  type PgChangeRow,
  type PgDecisionRow,
  type PgSessionRow,
} from './rows.js';
import type { AppActivity, DecisionQuery, DecisionRecord, IdentityChange, Page, SessionCountQuery, SessionQuery, SessionRecord } from '../types.js';

type Param = string | number | null;

/** WHERE clauses with numbered parameters. */
class Where {
  readonly sql: string[] = [];
  readonly params: Param[] = [];

  /** Adds `clause`, where every `?` stands for `value`. Empty values add nothing. */
  add(clause: string, value: Param | undefined): void {
    if (value === undefined || value === '') return;
    this.params.push(typeof value === 'string' ? pgText(value) : pgInt(value));
    const n = this.params.length;
    this.sql.push(clause.replaceAll('?', `$${n}`));
  }

  param(value: Param): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  toString(): string {
    return this.sql.length ? `WHERE ${this.sql.join(' AND ')}` : '';
  }
}

export class PostgresQueries {
  private readonly st;

  constructor(
    private readonly pool: pg.Pool,
    private readonly t: Tables,
  ) {
    this.st = {
      getSession: `SELECT * FROM ${t.sessions} WHERE id = $1`,
      sessionActivity: `SELECT * FROM ${t.apps} WHERE session_id = $1 ORDER BY last_seen_at DESC, app`,
      userSessions: `SELECT * FROM ${t.sessions} WHERE lower(email) = lower($1) ORDER BY issued_at DESC, id DESC LIMIT $2`,
      identityHistory: `SELECT * FROM ${t.changes} WHERE lower(email) = lower($1) ORDER BY time DESC, id DESC LIMIT $2`,
    };
  }

  private async rows<R extends pg.QueryResultRow>(sql: string, params: Param[]): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const [row] = await this.rows<PgSessionRow>(this.st.getSession, [pgText(id)]);
    return row ? sessionFromPg(row) : null;
  }

  async sessionActivity(id: string): Promise<AppActivity[]> {
    return (await this.rows<PgActivityRow>(this.st.sessionActivity, [pgText(id)])).map(activityFromPg);
  }

  async userSessions(email: string, limit: number): Promise<SessionRecord[]> {
    return (await this.rows<PgSessionRow>(this.st.userSessions, [pgText(email), limit])).map(sessionFromPg);
  }

  async identityHistory(email: string, limit: number): Promise<IdentityChange[]> {
    return (await this.rows<PgChangeRow>(this.st.identityHistory, [pgText(email), limit])).map(changeFromPg);
  }

  /** The WHERE of a session list or count. */
  private sessionFilters(q: SessionCountQuery): Where {
    const w = new Where();
    w.add('lower(s.email) = lower(?)', q.email);
    w.add('s.user_id = ?', q.user);
    w.add(`EXISTS (SELECT 1 FROM ${this.t.apps} a WHERE a.session_id = s.id AND a.app = ?)`, q.app);
    w.add('s.login_id = ?', q.loginId);
    w.add('s.idp = ?', q.idp);
    w.add('s.groups @> jsonb_build_array(?::text)', q.group);
    w.add('upper(s.login_country) = upper(?)', q.country);
    const bound = `${this.t.schema}.device_sessions`;
    if (q.device === 'none') w.sql.push(`NOT EXISTS (SELECT 1 FROM ${bound} b WHERE b.session_id = s.id)`);
    else w.add(`EXISTS (SELECT 1 FROM ${bound} b WHERE b.session_id = s.id AND b.device_id = ?)`, q.device);
    w.add('s.last_seen_at >= ?', q.since);
    if (q.active !== undefined) {
      w.add(q.active ? 's.revoked_at IS NULL AND s.expires_at > ?' : '(s.revoked_at IS NOT NULL OR s.expires_at <= ?)', q.now ?? Date.now());
    }
    return w;
  }

  async countSessions(q: SessionCountQuery, max: number): Promise<number> {
    const w = this.sessionFilters(q);
    const [row] = await this.rows<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${this.t.sessions} s ${w} LIMIT ${w.param(max + 1)}) x`, w.params);
    return Number(row?.n ?? 0);
  }

  async listSessions(q: SessionQuery): Promise<Page<SessionRecord & { apps: string[] }>> {
    const w = this.sessionFilters(q);
    if (q.cursor) {
      const [lastSeen, id] = decodeCursor(q.cursor, 'string');
      w.sql.push(`(s.last_seen_at, s.id) < (${w.param(lastSeen)}, ${w.param(id)})`);
    }
    const limit = pageLimit(q.limit);
    const rows = await this.rows<PgSessionRow & { apps: string[] }>(
      `SELECT s.*, coalesce((SELECT array_agg(a.app ORDER BY a.app) FROM ${this.t.apps} a WHERE a.session_id = s.id), '{}') AS apps
        FROM ${this.t.sessions} s ${w} ORDER BY s.last_seen_at DESC, s.id DESC LIMIT ${w.param(limit + 1)}`,
      w.params,
    );
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map((r) => ({ ...sessionFromPg(r), apps: r.apps }));
    const last = items.at(-1);
    return { items, nextCursor: more && last ? encodeCursor([last.lastSeenAt, last.id]) : null };
  }

  async listDecisions(q: DecisionQuery): Promise<Page<DecisionRecord>> {
    const w = new Where();
    w.add('request_id = ?', q.requestId);
    w.add('lower(email) = lower(?)', q.email);
    w.add('app = ?', q.app);
    w.add('outcome = ?', q.outcome);
    w.add('session_id = ?', q.sessionId);
    w.add('time >= ?', q.since);
    if (q.cursor) {
      const [time, id] = decodeCursor(q.cursor, 'number');
      w.sql.push(`(time, id) < (${w.param(time)}, ${w.param(id)})`);
    }
    const limit = pageLimit(q.limit);
    const rows = await this.rows<PgDecisionRow>(
      `SELECT * FROM ${this.t.decisions} ${w} ORDER BY time DESC, id DESC LIMIT ${w.param(limit + 1)}`,
      w.params,
    );
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const last = rows.at(-1);
    return { items: rows.map(decisionFromPg), nextCursor: more && last ? encodeCursor([last.time, last.id]) : null };
  }
}

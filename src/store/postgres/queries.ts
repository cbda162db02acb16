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
import type {
  AppActivity,
  DecisionQuery,
  DecisionRecord,
  IdentityChange,
  Page,
  SessionQuery,
  SessionRecord,
  UserSummary,
} from '../types.js';

type Param = string | number | null;

/** Who a session belongs to: the email when there is one, else issuer + subject (service tokens). */
const USER_KEY = 's_key';
const userKey = (alias: string) => `coalesce(lower(${alias}.email), ${alias}.issuer || chr(10) || ${alias}.user_id)`;

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
      userSessions: `SELECT * FROM ${t.sessions} WHERE lower(email) = lower($1) ORDER BY issued_at DESC, id DESC`,
      identityHistory: `SELECT * FROM ${t.changes} WHERE lower(email) = lower($1) ORDER BY time DESC, id DESC`,
      appSessions: `SELECT s.*, a.first_seen_at AS a_first, a.last_seen_at AS a_last,
          a.request_count AS a_count, a.last_path AS a_path
        FROM ${t.apps} a JOIN ${t.sessions} s ON s.id = a.session_id
        LEFT JOIN ${t.appRevocations} r ON r.app = a.app
        WHERE a.app = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
          AND (r.revoked_before IS NULL OR s.issued_at >= r.revoked_before)
        ORDER BY a.last_seen_at DESC, s.id`,
      // Name and email shown are those of the user's most recently seen session.
      listUsers: `SELECT (array_agg(email ORDER BY last_seen_at DESC, id DESC))[1] AS email,
          (array_agg(name ORDER BY last_seen_at DESC, id DESC))[1] AS name,
          max(last_seen_at) AS last_seen_at,
          count(*) FILTER (WHERE revoked_at IS NULL AND expires_at > $1) AS active
        FROM ${t.sessions} WHERE email IS NOT NULL GROUP BY lower(email)
        ORDER BY last_seen_at DESC, lower(email) COLLATE "C"`,
      appIdentities: `WITH users AS (
          SELECT DISTINCT ${userKey('s')} AS ${USER_KEY}
          FROM ${t.apps} a JOIN ${t.sessions} s ON s.id = a.session_id
          WHERE a.app = $1 AND a.last_seen_at >= $2
        ), ranked AS (
          SELECT s.*, row_number() OVER (PARTITION BY ${userKey('s')} ORDER BY s.issued_at DESC, s.id DESC) AS rn
          FROM ${t.sessions} s WHERE ${userKey('s')} IN (SELECT ${USER_KEY} FROM users)
        )
        SELECT * FROM ranked WHERE rn = 1 ORDER BY last_seen_at DESC, id`,
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

  async userSessions(email: string): Promise<SessionRecord[]> {
    return (await this.rows<PgSessionRow>(this.st.userSessions, [pgText(email)])).map(sessionFromPg);
  }

  async identityHistory(email: string): Promise<IdentityChange[]> {
    return (await this.rows<PgChangeRow>(this.st.identityHistory, [pgText(email)])).map(changeFromPg);
  }

  async listSessions(q: SessionQuery): Promise<Page<SessionRecord & { apps: string[] }>> {
    const w = new Where();
    w.add('lower(s.email) = lower(?)', q.email);
    w.add('s.user_id = ?', q.user);
    w.add(`EXISTS (SELECT 1 FROM ${this.t.apps} a WHERE a.session_id = s.id AND a.app = ?)`, q.app);
    w.add('s.login_id = ?', q.loginId);
    if (q.active !== undefined) {
      w.add(q.active ? 's.revoked_at IS NULL AND s.expires_at > ?' : '(s.revoked_at IS NOT NULL OR s.expires_at <= ?)', q.now ?? Date.now());
    }
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

  async appSessions(app: string, activeAt: number): Promise<Array<SessionRecord & { activity: AppActivity }>> {
    const rows = await this.rows<PgSessionRow & { a_first: number; a_last: number; a_count: number; a_path: string }>(this.st.appSessions, [
      pgText(app),
      pgInt(activeAt),
    ]);
    return rows.map((r) => ({
      ...sessionFromPg(r),
      activity: { sessionId: r.id, app, count: r.a_count, firstSeenAt: r.a_first, lastSeenAt: r.a_last, lastPath: r.a_path },
    }));
  }

  async listUsers(now: number): Promise<UserSummary[]> {
    const rows = await this.rows<{ email: string; name: string | null; last_seen_at: number; active: number }>(this.st.listUsers, [pgInt(now)]);
    return rows.map((r) => ({ email: r.email, name: r.name, activeSessions: r.active, lastSeenAt: r.last_seen_at }));
  }

  async appIdentities(app: string, since: number): Promise<SessionRecord[]> {
    return (await this.rows<PgSessionRow>(this.st.appIdentities, [pgText(app), pgInt(since)])).map(sessionFromPg);
  }
}

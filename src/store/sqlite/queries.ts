// The read side of the SQLite store: filtered, cursor-paginated lists. A list query's SQL depends
// on which filters are present (so each shape can use its index); each shape is prepared once, on
// first use, and cached.
import type Database from 'better-sqlite3';
import { decodeCursor, encodeCursor, pageLimit } from '../cursor.js';
import {
  decisionFromRow,
  sessionFromRow,
  type DecisionRow,
  type SessionRow,
} from './rows.js';
import type { AppActivity, DecisionQuery, DecisionRecord, Page, SessionQuery, SessionRecord, UserSummary } from '../types.js';

type Param = string | number;

/** Who a session belongs to: the email when there is one, else issuer + subject (service tokens). */
const USER_KEY = "coalesce(lower(s.email), s.issuer || char(10) || s.user_id)";

export class SqliteQueries {
  private readonly shapes = new Map<string, Database.Statement>();
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      appSessions: db.prepare(`SELECT s.*, a.first_seen_at AS a_first, a.last_seen_at AS a_last,
          a.request_count AS a_count, a.last_path AS a_path
        FROM session_apps a JOIN sessions s ON s.id = a.session_id
        LEFT JOIN app_revocations r ON r.app = a.app
        WHERE a.app = @app AND s.revoked_at IS NULL AND s.expires_at > @activeAt
          AND (r.revoked_before IS NULL OR s.issued_at >= r.revoked_before)
        ORDER BY a.last_seen_at DESC, s.id`),
      listUsers: db.prepare(`SELECT email, name, max(last_seen_at) AS last_seen_at,
          sum(revoked_at IS NULL AND expires_at > ?) AS active
        FROM sessions WHERE email IS NOT NULL GROUP BY email ORDER BY last_seen_at DESC, email`),
      appIdentities: db.prepare(`WITH users AS (
          SELECT DISTINCT ${USER_KEY} AS user_key
          FROM session_apps a JOIN sessions s ON s.id = a.session_id
          WHERE a.app = ? AND a.last_seen_at >= ?
        ), ranked AS (
          SELECT s.*, row_number() OVER (PARTITION BY ${USER_KEY} ORDER BY s.issued_at DESC, s.id DESC) AS rn
          FROM sessions s WHERE ${USER_KEY} IN (SELECT user_key FROM users)
        )
        SELECT * FROM ranked WHERE rn = 1 ORDER BY last_seen_at DESC, id`),
    };
  }

  private shape(key: string, sql: () => string): Database.Statement {
    let stmt = this.shapes.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql());
      this.shapes.set(key, stmt);
    }
    return stmt;
  }

  listSessions(q: SessionQuery): Page<SessionRecord & { apps: string[] }> {
    const where: string[] = [];
    const params: Param[] = [];
    let key = 's';
    const filter = (flag: string, sql: string, value: Param | undefined) => {
      if (value === undefined || value === '') return;
      key += flag;
      where.push(sql);
      params.push(value);
    };
    filter('e', 's.email = ?', q.email);
    filter('u', 's.user_id = ?', q.user);
    filter('a', 'EXISTS (SELECT 1 FROM session_apps a WHERE a.session_id = s.id AND a.app = ?)', q.app);
    filter('l', 's.login_id = ?', q.loginId);
    if (q.active !== undefined) {
      key += q.active ? 'A' : 'I';
      where.push(q.active ? 's.revoked_at IS NULL AND s.expires_at > ?' : '(s.revoked_at IS NOT NULL OR s.expires_at <= ?)');
      params.push(q.now ?? Date.now());
    }
    if (q.cursor) {
      const [lastSeen, id] = decodeCursor(q.cursor, 'string');
      key += 'c';
      where.push('(s.last_seen_at, s.id) < (?, ?)');
      params.push(lastSeen, id);
    }
    const limit = pageLimit(q.limit);
    const stmt = this.shape(key, () => `SELECT s.*,
        (SELECT json_group_array(app) FROM (SELECT app FROM session_apps WHERE session_id = s.id ORDER BY app)) AS apps
      FROM sessions s ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY s.last_seen_at DESC, s.id DESC LIMIT ?`);
    const rows = stmt.all(...params, limit + 1) as Array<SessionRow & { apps: string }>;
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map((r) => ({ ...sessionFromRow(r), apps: JSON.parse(r.apps) as string[] }));
    const last = items.at(-1);
    return { items, nextCursor: more && last ? encodeCursor([last.lastSeenAt, last.id]) : null };
  }

  listDecisions(q: DecisionQuery): Page<DecisionRecord> {
    const where: string[] = [];
    const params: Param[] = [];
    let key = 'd';
    const filter = (flag: string, sql: string, value: Param | undefined) => {
      if (value === undefined || value === '') return;
      key += flag;
      where.push(sql);
      params.push(value);
    };
    // The request id index is bucketed by the id's last character (migration 2): the bucket term
    // lets SQLite search it, and INDEXED BY keeps the planner from preferring a time-ordered index
    // (a bucket is 1/16 of the rows; another index could mean scanning all of them).
    const requestId = q.requestId ?? '';
    const byRequest = requestId !== '';
    if (byRequest) {
      key += 'r';
      where.push('substr(request_id, -1) = substr(?, -1) AND request_id = ?');
      params.push(requestId, requestId);
    }
    filter('e', 'email = ?', q.email);
    filter('a', 'app = ?', q.app);
    filter('o', 'outcome = ?', q.outcome);
    filter('s', 'session_id = ?', q.sessionId);
    filter('t', 'time >= ?', q.since);
    if (q.cursor) {
      const [time, id] = decodeCursor(q.cursor, 'number');
      key += 'c';
      where.push('(time, id) < (?, ?)');
      params.push(time, id);
    }
    const limit = pageLimit(q.limit);
    const from = byRequest ? 'decisions INDEXED BY decisions_request_tail' : 'decisions';
    const stmt = this.shape(key, () => `SELECT * FROM ${from}
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ?`);
    const rows = stmt.all(...params, limit + 1) as DecisionRow[];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const last = rows.at(-1);
    return { items: rows.map(decisionFromRow), nextCursor: more && last ? encodeCursor([last.time, last.id]) : null };
  }

  /** Sessions that used the app and may still use it at `activeAt` (not revoked, expired or cut off). */
  appSessions(app: string, activeAt: number): Array<SessionRecord & { activity: AppActivity }> {
    const rows = this.st.appSessions.all({ app, activeAt }) as Array<
      SessionRow & { a_first: number; a_last: number; a_count: number; a_path: string }
    >;
    return rows.map((r) => ({
      ...sessionFromRow(r),
      activity: activityOf(r.id, app, r),
    }));
  }

  listUsers(now: number): UserSummary[] {
    const rows = this.st.listUsers.all(now) as Array<{ email: string; name: string | null; last_seen_at: number; active: number }>;
    return rows.map((r) => ({ email: r.email, name: r.name, activeSessions: r.active, lastSeenAt: r.last_seen_at }));
  }

  appIdentities(app: string, since: number): SessionRecord[] {
    return (this.st.appIdentities.all(app, since) as SessionRow[]).map(sessionFromRow);
  }
}

function activityOf(sessionId: string, app: string, r: { a_first: number; a_last: number; a_count: number; a_path: string }): AppActivity {
  return { sessionId, app, count: r.a_count, firstSeenAt: r.a_first, lastSeenAt: r.a_last, lastPath: r.a_path };
}

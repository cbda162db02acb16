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
import type { DecisionQuery, DecisionRecord, Page, SessionQuery, SessionRecord } from '../types.js';

type Param = string | number;

export class SqliteQueries {
  private readonly shapes = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

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
}

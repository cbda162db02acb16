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
import type { DecisionQuery, DecisionRecord, Page, SessionCountQuery, SessionQuery, SessionRecord } from '../types.js';

type Param = string | number;

/** Below this many sessions on an app, a list filtered by it starts from the app's sessions. */
const RARE_APP = 2_000;
const APP_SIZE = 'SELECT count(*) FROM (SELECT 1 FROM session_apps WHERE app = ? LIMIT ?)';

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

  /** The WHERE of a session list or count, and its shape key (one prepared statement per shape). */
  private sessionFilters(q: SessionCountQuery, count = false): { key: string; where: string[]; params: Param[]; live: boolean } {
    // An app few sessions used: walk its sessions (session_apps_app) instead of every session.
    const rareApp = q.app !== undefined && q.app !== '' && (this.shape('appSize', () => APP_SIZE).pluck().get(q.app, RARE_APP) as number) < RARE_APP;
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
    if (rareApp) filter('r', 's.id IN (SELECT session_id FROM session_apps WHERE app = ?)', q.app);
    else filter('a', 'EXISTS (SELECT 1 FROM session_apps a WHERE a.session_id = s.id AND a.app = ?)', q.app);
    filter('l', 's.login_id = ?', q.loginId);
    filter('i', 's.idp = ?', q.idp);
    // The quoted name as a substring first (cheap), then exactly as an element.
    filter('g', 'instr(s.groups, json_quote(?)) > 0', q.group);
    filter('', 'EXISTS (SELECT 1 FROM json_each(s.groups) WHERE value = ?)', q.group);
    filter('k', 'upper(s.login_country) = upper(?)', q.country);
    if (q.device === 'none') {
      key += 'N';
      where.push('NOT EXISTS (SELECT 1 FROM device_sessions b WHERE b.session_id = s.id)');
    } else filter('d', 'EXISTS (SELECT 1 FROM device_sessions b WHERE b.session_id = s.id AND b.device_id = ?)', q.device);
    filter('t', 's.last_seen_at >= ?', q.since);
    // Unary + hides a term from the planner. Only a count of active sessions with no narrower
    // index to use reads sessions_live (index only, migration 10); a list reads sessions_last_seen
    // (or the email/user index) and stops after a page; `since` reads a recent slice of it.
    const live = count && q.active === true && q.since === undefined && !q.app && !q.email && !q.user && !q.loginId;
    if (q.active !== undefined) {
      key += q.active ? 'A' : 'I';
      const revoked = live ? 's.revoked_at' : '+s.revoked_at';
      const expires = q.since !== undefined ? '+s.expires_at' : 's.expires_at';
      key += live ? 'L' : '';
      where.push(q.active ? `${revoked} IS NULL AND ${expires} > ?` : `(${revoked} IS NOT NULL OR ${expires} <= ?)`);
      params.push(q.now ?? Date.now());
    }
    return { key, where, params, live };
  }

  countSessions(q: SessionCountQuery, max: number): number {
    const { key, where, params, live } = this.sessionFilters(q, true);
    const from = live ? 'sessions s INDEXED BY sessions_live' : 'sessions s';
    const stmt = this.shape(`#${key}`, () => `SELECT count(*) FROM (SELECT 1 FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} LIMIT ?)`);
    return stmt.pluck().get(...params, max + 1) as number;
  }

  listSessions(q: SessionQuery): Page<SessionRecord & { apps: string[] }> {
    const f = this.sessionFilters(q);
    const { where, params } = f;
    let key = f.key;
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

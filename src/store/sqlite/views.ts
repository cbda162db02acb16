// The SQLite store's per-app and per-user views, each bounded: who uses an app (keyset pages that
// read at most limit + SCAN_SLACK rows), users (pages in email order), one user's summary, and the
// latest identities of an app's users (for what-if policy tests, capped).
import type Database from 'better-sqlite3';
import { SCAN_SLACK, decodeCursor, encodeCursor, pageLimit, scannedPage } from '../cursor.js';
import { sessionFromRow, type SessionRow } from './rows.js';
import type { AppActivity, AppSessionQuery, Page, SessionRecord, UserQuery, UserSummary } from '../types.js';

/** Who a session belongs to: the email when there is one, else issuer + subject (service tokens). */
const USER_KEY = 'coalesce(lower(s.email), s.issuer || char(10) || s.user_id)';

type AppRow = SessionRow & { a_first: number; a_last: number; a_count: number; a_path: string; usable: number };
type UserRow = { email: string; name: string | null; last_seen_at: number; active: number | null };

/** The app's activity rows after the cursor, newest first: the index (app, last_seen_at) + primary key. */
const appScan = (after: boolean) => `SELECT s.*, a.first_seen_at AS a_first, a.last_seen_at AS a_last,
    a.request_count AS a_count, a.last_path AS a_path,
    (s.revoked_at IS NULL AND s.expires_at > @activeAt
      AND (r.revoked_before IS NULL OR s.issued_at >= r.revoked_before)) AS usable
  FROM (SELECT * FROM session_apps WHERE app = @app
      ${after ? 'AND (last_seen_at, session_id) < (@at, @id)' : ''}
      ORDER BY last_seen_at DESC, session_id DESC LIMIT @scan) a
  JOIN sessions s ON s.id = a.session_id
  LEFT JOIN app_revocations r ON r.app = a.app
  ORDER BY a.last_seen_at DESC, a.session_id DESC`;

// The name and email shown are those of the user's most recently seen session (SQLite takes bare
// columns from the row that gave max()). email is COLLATE NOCASE: grouping and > are case-insensitive.
const userSelect = `SELECT email, name, max(last_seen_at) AS last_seen_at,
    sum(revoked_at IS NULL AND expires_at > @now) AS active FROM sessions`;

export class SqliteViews {
  private readonly st;

  constructor(db: Database.Database) {
    this.st = {
      appFirst: db.prepare(appScan(false)),
      appAfter: db.prepare(appScan(true)),
      usersFirst: db.prepare(`${userSelect} WHERE email IS NOT NULL GROUP BY email ORDER BY email LIMIT @n`),
      usersAfter: db.prepare(`${userSelect} WHERE email IS NOT NULL AND email > @after GROUP BY email ORDER BY email LIMIT @n`),
      user: db.prepare(`${userSelect} WHERE email = @email`),
      appIdentities: db.prepare(`WITH users AS (
          SELECT DISTINCT ${USER_KEY} AS user_key
          FROM session_apps a JOIN sessions s ON s.id = a.session_id
          WHERE a.app = ? AND a.last_seen_at >= ?
        ), ranked AS (
          SELECT s.*, row_number() OVER (PARTITION BY ${USER_KEY} ORDER BY s.issued_at DESC, s.id DESC) AS rn
          FROM sessions s WHERE ${USER_KEY} IN (SELECT user_key FROM users)
        )
        SELECT * FROM ranked WHERE rn = 1 ORDER BY last_seen_at DESC, id LIMIT ?`),
    };
  }

  appSessions(q: AppSessionQuery): Page<SessionRecord & { activity: AppActivity }> {
    const limit = pageLimit(q.limit);
    const scan = limit + SCAN_SLACK;
    const args = { app: q.app, activeAt: q.activeAt, scan };
    let rows: AppRow[];
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor, 'string');
      rows = this.st.appAfter.all({ ...args, at, id }) as AppRow[];
    } else {
      rows = this.st.appFirst.all(args) as AppRow[];
    }
    return scannedPage(
      rows,
      limit,
      scan,
      (r) => r.usable === 1,
      (r) => ({ ...sessionFromRow(r), activity: activityOf(r.id, q.app, r) }),
      (r) => [r.a_last, r.id],
    );
  }

  listUsers(q: UserQuery): Page<UserSummary> {
    const limit = pageLimit(q.limit);
    const args = { now: q.now, n: limit + 1 };
    const rows = (q.cursor ? this.st.usersAfter.all({ ...args, after: decodeCursor(q.cursor, 'key')[0] }) : this.st.usersFirst.all(args)) as UserRow[];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const last = rows.at(-1);
    return { items: rows.map(userFromRow), nextCursor: more && last ? encodeCursor([last.email]) : null };
  }

  userSummary(email: string, now: number): UserSummary | null {
    const row = this.st.user.get({ email, now }) as UserRow;
    return row.email === null ? null : userFromRow(row);
  }

  appIdentities(app: string, since: number, limit: number): SessionRecord[] {
    return (this.st.appIdentities.all(app, since, limit) as SessionRow[]).map(sessionFromRow);
  }
}

function userFromRow(r: UserRow): UserSummary {
  return { email: r.email, name: r.name, activeSessions: r.active ?? 0, lastSeenAt: r.last_seen_at };
}

function activityOf(sessionId: string, app: string, r: { a_first: number; a_last: number; a_count: number; a_path: string }): AppActivity {
  return { sessionId, app, count: r.a_count, firstSeenAt: r.a_first, lastSeenAt: r.a_last, lastPath: r.a_path };
}

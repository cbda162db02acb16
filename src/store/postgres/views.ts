// The PostgreSQL store's per-app and per-user views, the same as sqlite/views.ts and as bounded:
// who uses an app (keyset pages reading at most limit + SCAN_SLACK rows), users in email order
// (lower(email), byte order), one user's summary, the latest identities of an app's users (capped).
import type pg from 'pg';
import { SCAN_SLACK, decodeCursor, encodeCursor, pageLimit, scannedPage } from '../cursor.js';
import { pgInt, pgText, type Tables } from './db.js';
import { sessionFromPg, type PgSessionRow } from './rows.js';
import type { AppActivity, AppSessionQuery, Page, SessionRecord, UserQuery, UserSummary } from '../types.js';

const userKey = (alias: string) => `coalesce(lower(${alias}.email), ${alias}.issuer || chr(10) || ${alias}.user_id)`;

type AppRow = PgSessionRow & { a_first: number; a_last: number; a_count: number; a_path: string; usable: boolean };
type UserRow = { key: string; email: string; name: string | null; last_seen_at: number; active: number };

/** The user key of listUsers: lower(email) in byte order, whatever the database's collation. */
const EMAIL_KEY = 'lower(email) COLLATE "C"';

export class PostgresViews {
  private readonly st;

  constructor(
    private readonly pool: pg.Pool,
    t: Tables,
  ) {
    const appScan = (after: boolean) => `SELECT s.*, a.first_seen_at AS a_first, a.last_seen_at AS a_last,
        a.request_count AS a_count, a.last_path AS a_path,
        (s.revoked_at IS NULL AND s.expires_at > $2 AND (r.revoked_before IS NULL OR s.issued_at >= r.revoked_before)) AS usable
      FROM (SELECT * FROM ${t.apps} WHERE app = $1 ${after ? 'AND (last_seen_at, session_id) < ($4, $5)' : ''}
          ORDER BY last_seen_at DESC, session_id DESC LIMIT $3) a
      JOIN ${t.sessions} s ON s.id = a.session_id
      LEFT JOIN ${t.appRevocations} r ON r.app = a.app
      ORDER BY a.last_seen_at DESC, a.session_id DESC`;
    // Name and email shown are those of the user's most recently seen session.
    const users = (where: string) => `SELECT ${EMAIL_KEY} AS key,
        (array_agg(email ORDER BY last_seen_at DESC, id DESC))[1] AS email,
        (array_agg(name ORDER BY last_seen_at DESC, id DESC))[1] AS name,
        max(last_seen_at) AS last_seen_at,
        count(*) FILTER (WHERE revoked_at IS NULL AND expires_at > $1) AS active
      FROM ${t.sessions} WHERE email IS NOT NULL ${where} GROUP BY ${EMAIL_KEY}`;
    this.st = {
      appFirst: appScan(false),
      appAfter: appScan(true),
      usersFirst: `${users('')} ORDER BY 1 LIMIT $2`,
      usersAfter: `${users(`AND ${EMAIL_KEY} > $3`)} ORDER BY 1 LIMIT $2`,
      user: users(`AND ${EMAIL_KEY} = lower($2) COLLATE "C"`),
      appIdentities: `WITH users AS (
          SELECT DISTINCT ${userKey('s')} AS s_key
          FROM ${t.apps} a JOIN ${t.sessions} s ON s.id = a.session_id
          WHERE a.app = $1 AND a.last_seen_at >= $2
        ), ranked AS (
          SELECT s.*, row_number() OVER (PARTITION BY ${userKey('s')} ORDER BY s.issued_at DESC, s.id DESC) AS rn
          FROM ${t.sessions} s WHERE ${userKey('s')} IN (SELECT s_key FROM users)
        )
        SELECT * FROM ranked WHERE rn = 1 ORDER BY last_seen_at DESC, id LIMIT $3`,
    };
  }

  private async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async appSessions(q: AppSessionQuery): Promise<Page<SessionRecord & { activity: AppActivity }>> {
    const limit = pageLimit(q.limit);
    const scan = limit + SCAN_SLACK;
    const args: unknown[] = [pgText(q.app), pgInt(q.activeAt), scan];
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor, 'string');
      args.push(at, pgText(id));
    }
    const rows = await this.rows<AppRow>(q.cursor ? this.st.appAfter : this.st.appFirst, args);
    return scannedPage(
      rows,
      limit,
      scan,
      (r) => r.usable,
      (r) => ({
        ...sessionFromPg(r),
        activity: { sessionId: r.id, app: q.app, count: r.a_count, firstSeenAt: r.a_first, lastSeenAt: r.a_last, lastPath: r.a_path },
      }),
      (r) => [r.a_last, r.id],
    );
  }

  async listUsers(q: UserQuery): Promise<Page<UserSummary>> {
    const limit = pageLimit(q.limit);
    const args: unknown[] = [pgInt(q.now), limit + 1];
    if (q.cursor) args.push(pgText(decodeCursor(q.cursor, 'key')[0]));
    const rows = await this.rows<UserRow>(q.cursor ? this.st.usersAfter : this.st.usersFirst, args);
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const last = rows.at(-1);
    return { items: rows.map(userFromRow), nextCursor: more && last ? encodeCursor([last.key]) : null };
  }

  async userSummary(email: string, now: number): Promise<UserSummary | null> {
    const [row] = await this.rows<UserRow>(this.st.user, [pgInt(now), pgText(email)]);
    return row ? userFromRow(row) : null;
  }

  async appIdentities(app: string, since: number, limit: number): Promise<SessionRecord[]> {
    return (await this.rows<PgSessionRow>(this.st.appIdentities, [pgText(app), pgInt(since), limit])).map(sessionFromPg);
  }
}

function userFromRow(r: UserRow): UserSummary {
  return { email: r.email, name: r.name, activeSessions: Number(r.active), lastSeenAt: r.last_seen_at };
}

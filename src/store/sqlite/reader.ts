// Every read the admin API makes of the SQLite store (store/types.ts StoreReader), over any
// connection to the file: the store's own, or the read-only one of the admin read worker
// (read-worker.ts). Reads only, so it is safe on a read-only connection.
import type Database from 'better-sqlite3';
import { SqliteQueries } from './queries.js';
import { SqliteViews } from './views.js';
import { SqliteActionReader } from './actions.js';
import { activityFromRow, changeFromRow, sessionFromRow, type ActivityRow, type ChangeRow, type SessionRow } from './rows.js';
import type {
  AppActivity,
  AppSessionQuery,
  DecisionQuery,
  DecisionRecord,
  IdentityChange,
  Page,
  SessionCountQuery,
  SessionQuery,
  SessionRecord,
  StoreReader,
  UserQuery,
  UserSummary,
} from '../types.js';

export class SqliteReader implements StoreReader {
  private readonly st;
  private readonly queries: SqliteQueries;
  private readonly views: SqliteViews;
  readonly identities: StoreReader['identities'];
  readonly actions: StoreReader['actions'];

  constructor(db: Database.Database) {
    this.queries = new SqliteQueries(db);
    this.views = new SqliteViews(db);
    this.st = {
      getSession: db.prepare('SELECT * FROM sessions WHERE id = ?'),
      sessionActivity: db.prepare('SELECT * FROM session_apps WHERE session_id = ? ORDER BY last_seen_at DESC, app'),
      userSessions: db.prepare('SELECT * FROM sessions WHERE email = ? ORDER BY issued_at DESC, id DESC LIMIT ?'),
      identityHistory: db.prepare('SELECT * FROM identity_changes WHERE email = ? ORDER BY time DESC, id DESC LIMIT ?'),
      sessionHistory: db.prepare('SELECT * FROM identity_changes WHERE session_id = ? ORDER BY time DESC, id DESC'),
    };
    const sessionHistory = this.st.sessionHistory;
    this.identities = { sessionHistory: async (id) => (sessionHistory.all(id) as ChangeRow[]).map(changeFromRow) };
    this.actions = new SqliteActionReader(db);
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const row = this.st.getSession.get(id) as SessionRow | undefined;
    return row ? sessionFromRow(row) : null;
  }

  async listSessions(q: SessionQuery): Promise<Page<SessionRecord & { apps: string[] }>> {
    return this.queries.listSessions(q);
  }

  async countSessions(q: SessionCountQuery, max: number): Promise<number> {
    return this.queries.countSessions(q, max);
  }

  async sessionActivity(id: string): Promise<AppActivity[]> {
    return (this.st.sessionActivity.all(id) as ActivityRow[]).map(activityFromRow);
  }

  async appSessions(q: AppSessionQuery): Promise<Page<SessionRecord & { activity: AppActivity }>> {
    return this.views.appSessions(q);
  }

  async listUsers(q: UserQuery): Promise<Page<UserSummary>> {
    return this.views.listUsers(q);
  }

  async userSummary(email: string, now: number): Promise<UserSummary | null> {
    return this.views.userSummary(email, now);
  }

  async userSessions(email: string, limit: number): Promise<SessionRecord[]> {
    return (this.st.userSessions.all(email, limit) as SessionRow[]).map(sessionFromRow);
  }

  async identityHistory(email: string, limit: number): Promise<IdentityChange[]> {
    return (this.st.identityHistory.all(email, limit) as ChangeRow[]).map(changeFromRow);
  }

  async listDecisions(q: DecisionQuery): Promise<Page<DecisionRecord>> {
    return this.queries.listDecisions(q);
  }

  async appIdentities(app: string, since: number, limit: number): Promise<SessionRecord[]> {
    return this.views.appIdentities(app, since, limit);
  }
}

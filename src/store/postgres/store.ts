// The shared store: PostgreSQL through the pg package, for several gateway instances behind a load
// balancer. Same interface and semantics as the SQLite store (one conformance suite runs against
// both); loaded only when store.postgres is configured (store/open.ts imports it on demand).
// - Schema: `?schema=name` in the URL (default public); every statement names it, so search_path
//   and connection poolers in front of PostgreSQL do not matter. Created on first start.
// - Migrations: versioned, one transaction under pg_advisory_xact_lock (db.ts).
// - Batches: one transaction of a few bulk statements (batch.ts).
// - Revocations: durable before they resolve (a committed transaction with synchronous_commit at
//   least `on`), and NOTIFY'd in that same transaction so other instances hear of them on commit
//   (notify.ts). While PostgreSQL is unreachable they reject: never a false success.
// - Outages: every query is bounded (connect 5 s, query 15 s); dead idle connections are dropped by
//   the pool without crashing; the RecordWriter keeps failed batches and retries with backoff.
import { deleteInChunks } from '../purge.js';
import { PostgresScimStore } from './scim.js';
import { PostgresEventStore } from './events.js';
import { PostgresRefreshStore } from './live.js';
import { PostgresDeviceStore } from './devices.js';
import { PostgresActionStore } from './actions.js';
import pg from 'pg';
import { silentLogger, type Logger } from '../../log.js';
import { applyBatch, batchStatements, fitIndexes, MAX_INDEXED_CHARS, type BatchStatements } from './batch.js';
import { connectionFromUrl, createPool, inTransaction, migrate, pgInt, pgText, tableNames } from './db.js';
import type { PostgresConnection, PostgresTimeouts, PostgresTls, Tables } from './db.js';
import { notifyRevocations, RevocationWatcher } from './notify.js';
import { PostgresQueries } from './queries.js';
import { PostgresViews } from './views.js';
import { PostgresSignInState } from './signin.js';
import { PostgresIdentityStore } from './identity.js';
import type { AppActivity, AppSessionQuery, UserQuery, DecisionQuery, DecisionRecord, IdentityChange, Page } from '../types.js';
import type { RecordBatch, RevocationState, SessionCountQuery, SessionQuery, SessionRecord, Store, UserSummary } from '../types.js';

export { connectionFromUrl, DEFAULT_SCHEMA } from './db.js';

export interface PostgresStoreOptions {
  /** store.postgres_tls: replaces the URL's sslmode. */
  tls?: PostgresTls;
  logger?: Logger;
  /** Pooled connections (default 5), plus one for the revocation feed. */
  poolSize?: number;
  /** Safety-net poll of revocations made elsewhere (default 5000 ms). */
  revocationPollMs?: number;
  /** Longest wait between reconnects of the revocation feed (default 5000 ms). */
  maxBackoffMs?: number;
  timeouts?: PostgresTimeouts;
}

/** Connects, migrates (creating the schema if needed) and returns the store. */
export async function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const conn = connectionFromUrl(url, opts.tls, opts.timeouts);
  const logger = opts.logger ?? silentLogger;
  try {
    await migrate(conn);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message.includes(conn.target)) throw err;
    throw new Error(`cannot open PostgreSQL store ${conn.target}: ${message}`, { cause: err });
  }
  return new PostgresStore(conn, createPool(conn, logger, opts.poolSize ?? 5), logger, opts);
}

/** Revokes the unrevoked sessions matching `where` ($4); rows locked in id order, like batches do, so a revocation never deadlocks with a batch. */
function revokeWhere(t: Tables, where: string): string {
  return `WITH target AS (
      SELECT id FROM ${t.sessions} WHERE ${where} AND revoked_at IS NULL ORDER BY id FOR UPDATE
    )
    UPDATE ${t.sessions} s SET revoked_at = $1, revoked_by = $2, revoke_reason = $3
    FROM target WHERE s.id = target.id RETURNING s.id`;
}

function statements(t: Tables) {
  return {
    revokeSession: `UPDATE ${t.sessions} SET revoked_at = $1, revoked_by = $2, revoke_reason = $3
      WHERE id = $4 AND revoked_at IS NULL`,
    sessionExists: `SELECT 1 FROM ${t.sessions} WHERE id = $1`,
    revokeUser: revokeWhere(t, 'lower(email) = lower($4)'),
    revokeLogin: revokeWhere(t, 'login_id = $4'),
    revokeApp: `INSERT INTO ${t.appRevocations} AS r (app, revoked_before) VALUES ($1, $2)
      ON CONFLICT (app) DO UPDATE SET revoked_before = greatest(r.revoked_before, excluded.revoked_before)
      RETURNING revoked_before`,
    // A server (or role) configured with synchronous_commit = off/local would acknowledge a commit
    // before it is durable: raise it for this transaction only, never lower a stricter setting.
    durable: `SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') IN ('off', 'local')`,
    revokedIds: `SELECT id FROM ${t.sessions} WHERE revoked_at IS NOT NULL ORDER BY id`,
    appCutoffs: `SELECT app, revoked_before FROM ${t.appRevocations} ORDER BY app`,
    purgeDecisions: `DELETE FROM ${t.decisions} WHERE id IN (SELECT id FROM ${t.decisions} WHERE time < $1 ORDER BY time LIMIT $2)`,
    purgeSessions: `DELETE FROM ${t.sessions} WHERE id IN (SELECT id FROM ${t.sessions} WHERE expires_at < $1 LIMIT $2)`,
    heartbeat: `UPDATE ${t.heartbeat} SET at = $1 WHERE id = 1`,
  };
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly scim: PostgresScimStore;
  readonly identities: PostgresIdentityStore;
  readonly events: PostgresEventStore;
  readonly refresh: PostgresRefreshStore;
  readonly devices: PostgresDeviceStore;
  readonly actions: PostgresActionStore;
  readonly schema: string;
  /** The URL without its password. */
  readonly target: string;
  private readonly st: ReturnType<typeof statements>;
  private readonly batch: BatchStatements;
  private readonly queries: PostgresQueries;
  private readonly views: PostgresViews;
  readonly signIn: PostgresSignInState;
  private watcher: RevocationWatcher | null = null;
  private closing: Promise<void> | null = null;

  /** `pool` is exposed for diagnostics and tests; application code goes through Store. */
  constructor(
    private readonly conn: PostgresConnection,
    readonly pool: pg.Pool,
    private readonly logger: Logger,
    private readonly opts: PostgresStoreOptions = {},
  ) {
    this.schema = conn.schema;
    this.target = conn.target;
    const t = tableNames(conn.schema);
    this.st = statements(t);
    this.batch = batchStatements(t);
    this.queries = new PostgresQueries(pool, t);
    this.views = new PostgresViews(pool, t);
    this.signIn = new PostgresSignInState(pool, t);
    this.scim = new PostgresScimStore(pool, conn.schema);
    this.identities = new PostgresIdentityStore(pool, t, conn.schema);
    this.events = new PostgresEventStore(pool, conn.schema);
    this.refresh = new PostgresRefreshStore(pool, t);
    this.devices = new PostgresDeviceStore(pool, conn.schema);
    this.actions = new PostgresActionStore(pool, conn.schema);
  }

  async writeBatch(batch: RecordBatch): Promise<void> {
    if (batch.sessions.length + batch.activity.length + batch.decisions.length === 0) return;
    const fitted = fitIndexes(batch);
    if (fitted.skipped > 0) {
      this.logger.warn({ skipped: fitted.skipped, maxChars: MAX_INDEXED_CHARS }, 'sessions with ids too long to index not recorded');
    }
    await inTransaction(this.pool, (c) => applyBatch(c, this.batch, fitted.batch));
  }

  /** A committed, durable transaction that also NOTIFYs the other instances on commit. */
  private durably<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (c) => {
      await c.query(this.st.durable);
      return fn(c);
    });
  }

  revokeSession(id: string, by: string, reason: string, at: number): Promise<boolean> {
    const sid = pgText(id) as string;
    return this.durably(async (c) => {
      // An already revoked session keeps its first revocation (time, by, reason).
      if (((await c.query(this.st.revokeSession, [pgInt(at), pgText(by), pgText(reason), sid])).rowCount ?? 0) > 0) {
        await notifyRevocations(c, this.schema, { sessionIds: [sid] });
        return true;
      }
      return ((await c.query(this.st.sessionExists, [sid])).rowCount ?? 0) > 0;
    });
  }

  revokeUser(email: string, by: string, reason: string, at: number): Promise<string[]> {
    return this.revokeMany(this.st.revokeUser, [pgInt(at), pgText(by), pgText(reason), pgText(email)]);
  }

  revokeLogin(loginId: string, by: string, reason: string, at: number): Promise<string[]> {
    return this.revokeMany(this.st.revokeLogin, [pgInt(at), pgText(by), pgText(reason), pgText(loginId)]);
  }

  /** One transaction and one notification for the set, whatever its size (a SCIM deactivation's 100 sessions). */
  revokeSessions(ids: string[], by: string, reason: string, at: number, history: IdentityChange[] = []): Promise<string[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.durably((c) => this.identities.revokeIn(c, { ids, by, reason, at, history }));
  }

  /** One revoking UPDATE … RETURNING id, durable, and announced to the other instances. */
  private revokeMany(sql: string, params: unknown[]): Promise<string[]> {
    return this.durably(async (c) => {
      const ids = (await c.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
      await notifyRevocations(c, this.schema, { sessionIds: ids });
      return ids;
    });
  }

  async revokeApp(app: string, at: number): Promise<void> {
    const name = pgText(app) as string;
    await this.durably(async (c) => {
      const [row] = (await c.query<{ revoked_before: number }>(this.st.revokeApp, [name, pgInt(at)])).rows;
      await notifyRevocations(c, this.schema, { appCutoffs: { [name]: row?.revoked_before ?? pgInt(at) } });
    });
  }

  async loadRevocations(): Promise<RevocationState> {
    const [ids, cutoffs, identities] = await Promise.all([
      this.pool.query<{ id: string }>(this.st.revokedIds),
      this.pool.query<{ app: string; revoked_before: number }>(this.st.appCutoffs),
      this.identities.changed(Date.now()),
    ]);
    const appCutoffs: Record<string, number> = {};
    for (const r of cutoffs.rows) appCutoffs[r.app] = r.revoked_before;
    return { sessionIds: ids.rows.map((r) => r.id), appCutoffs, identities };
  }

  /**
   * LISTEN/NOTIFY on a dedicated connection, a full snapshot after every (re)connect and a poll
   * every few seconds (notify.ts).
   */
  watchRevocations(listener: (update: RevocationState) => void): void {
    if (this.closing) return;
    this.watcher ??= new RevocationWatcher({
      schema: this.schema,
      newClient: () => new pg.Client(this.conn.config),
      load: () => this.loadRevocations(),
      logger: this.logger,
      ...(this.opts.revocationPollMs !== undefined ? { pollIntervalMs: this.opts.revocationPollMs } : {}),
      ...(this.opts.maxBackoffMs !== undefined ? { maxBackoffMs: this.opts.maxBackoffMs } : {}),
    });
    this.watcher.watch(listener);
  }

  /** True while the revocation feed's LISTEN connection is up (false when not watching). */
  get revocationFeedUp(): boolean {
    return this.watcher?.listening ?? false;
  }

  getSession(id: string): Promise<SessionRecord | null> {
    return this.queries.getSession(id);
  }

  listSessions(q: SessionQuery): Promise<Page<SessionRecord & { apps: string[] }>> {
    return this.queries.listSessions(q);
  }

  countSessions(q: SessionCountQuery, max: number): Promise<number> {
    return this.queries.countSessions(q, max);
  }

  sessionActivity(id: string): Promise<AppActivity[]> {
    return this.queries.sessionActivity(id);
  }

  appSessions(q: AppSessionQuery): Promise<Page<SessionRecord & { activity: AppActivity }>> {
    return this.views.appSessions(q);
  }

  listUsers(q: UserQuery): Promise<Page<UserSummary>> {
    return this.views.listUsers(q);
  }

  userSummary(email: string, now: number): Promise<UserSummary | null> {
    return this.views.userSummary(email, now);
  }

  userSessions(email: string, limit: number): Promise<SessionRecord[]> {
    return this.queries.userSessions(email, limit);
  }

  identityHistory(email: string, limit: number): Promise<IdentityChange[]> {
    return this.queries.identityHistory(email, limit);
  }

  listDecisions(q: DecisionQuery): Promise<Page<DecisionRecord>> {
    return this.queries.listDecisions(q);
  }

  appIdentities(app: string, since: number, limit: number): Promise<SessionRecord[]> {
    return this.views.appIdentities(app, since, limit);
  }

  /** Deletes in chunks, each its own short statement, so a large purge never holds locks for long. */
  async purge(before: number): Promise<{ decisions: number; sessions: number }> {
    const drain = (sql: string) => deleteInChunks(async (limit) => (await this.pool.query(sql, [pgInt(before), limit])).rowCount ?? 0);
    const decisions = await drain(this.st.purgeDecisions);
    // session_apps rows go with their session (ON DELETE CASCADE).
    const sessions = await drain(this.st.purgeSessions);
    await this.signIn.purge(Date.now());
    return { decisions, sessions };
  }

  /** One tiny write: fails while PostgreSQL is unreachable, read-only (a standby) or refusing writes. */
  async ping(): Promise<void> {
    try {
      await this.pool.query(this.st.heartbeat, [Date.now()]);
    } catch (err) {
      throw new Error(`PostgreSQL ${this.target}: ${(err as Error).message}`, { cause: err });
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.watcher?.close();
      await this.pool.end().catch((err: Error) => this.logger.warn({ err: err.message }, 'closing the PostgreSQL pool failed'));
    })();
    return this.closing;
  }
}

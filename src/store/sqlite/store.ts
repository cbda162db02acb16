// The embedded store: better-sqlite3 in WAL mode with synchronous=NORMAL, statements prepared once, one IMMEDIATE transaction per batch.
// better-sqlite3 is synchronous, so every wait for a lock blocks the event loop. The busy timeout is therefore short
// (50 ms by default, not SQLite's usual 5 s): a batch that meets a locked database throws SQLITE_BUSY quickly and the
// RecordWriter keeps it and retries on a later tick.
// Durability: WAL + synchronous=NORMAL survives a process crash (kill -9) once a transaction has committed, but may
// lose the last commits on power loss or an OS crash. That is fine for audit records; it is not for revocations, which
// the admin API promises are durable before it answers. Revocations therefore commit with synchronous=FULL (the WAL is
// fsynced at that commit), set for just that transaction on this connection.
import { deleteInChunks } from '../purge.js';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { diffIdentity } from '../identity-diff.js';
import { entriesOf } from '../revoke-batch.js';
import { durably, openDatabase, retryBusy } from './db.js';
import { SqliteReader } from './reader.js';
import { SqliteScimStore } from './scim.js';
import { SqliteDeviceStore } from './devices.js';
import { SqliteActionStore } from './actions.js';
import { SqliteIdentityStore } from './identity.js';
import { SqliteEventStore } from './events.js';
import { SqliteRefreshStore } from './live.js';
import { DECISION_PARAMS, DecisionParamWriter, SESSION_INSERT_COLUMNS, sessionInsertParams, sessionTouchParams, type SessionRow } from './rows.js';
import type { DecisionRecord, IdentityChange, RecordBatch, RevocationState, SessionUpsert, Store, StoreReader } from '../types.js';

export { StoreCorruptError } from './db.js';
export const DEFAULT_BUSY_TIMEOUT_MS = 50;

export interface SqliteStoreOptions {
  /** How long one statement may wait for a lock (blocking the event loop). Default 50 ms. */
  busyTimeoutMs?: number;
}

/** Opens (creating directory and file if needed), checks and migrates the SQLite store. */
export async function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const path = resolve(file);
  return new SqliteStore(path, openDatabase(path, opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
}

/**
 * Decisions are inserted with multi-row INSERTs of these sizes (largest first, then the remainder),
 * each statement prepared once: better-sqlite3's per-statement cost (a run, a step, a reset) is
 * paid once per chunk instead of once per row.
 */
const DECISION_CHUNKS = [64, 16, 4, 1] as const;

function insertDecisionsSql(rows: number): string {
  const row = `(${Array(DECISION_PARAMS).fill('?').join(', ')})`;
  return `INSERT INTO decisions (request_id, time, app, session_id, email, method, host, path,
    client_ip, outcome, policy, reason, reasons, config_hash, identity_version) VALUES ${Array(rows).fill(row).join(', ')}`;
}

/** Revokes the unrevoked sessions matching `where`; an already revoked one keeps its first revocation. */
const revokeWhere = (where: string) => `UPDATE sessions SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE ${where} AND revoked_at IS NULL`;

/** A session × app aggregate meeting the stored one: counts add up, first/last seen widen. */
const ACTIVITY_MERGE = `ON CONFLICT (session_id, app) DO UPDATE SET
        request_count = request_count + excluded.request_count,
        first_seen_at = min(first_seen_at, excluded.first_seen_at),
        last_path = CASE WHEN excluded.last_seen_at >= last_seen_at THEN excluded.last_path ELSE last_path END,
        last_seen_at = max(last_seen_at, excluded.last_seen_at)`;

function prepare(db: Database.Database) {
  const cols = SESSION_INSERT_COLUMNS;
  return {
    sessionExists: db.prepare('SELECT 1 FROM sessions WHERE id = ?').pluck(),
    // A known session is left alone here (and touched instead): one statement tells new from known.
    insertSession: db.prepare(`INSERT INTO sessions (${cols}) VALUES (${cols.replace(/\w+/g, '?')})
      ON CONFLICT (id) DO NOTHING`),
    touchSession: db.prepare(`UPDATE sessions SET
        last_ip = CASE WHEN @last_seen_at >= last_seen_at THEN coalesce(@last_ip, last_ip) ELSE last_ip END,
        last_user_agent = CASE WHEN @last_seen_at >= last_seen_at
          THEN coalesce(@last_user_agent, last_user_agent) ELSE last_user_agent END,
        last_seen_at = max(last_seen_at, @last_seen_at)
      WHERE id = @id`),
    previousIdentity: db.prepare(`SELECT groups, claims FROM sessions
      WHERE email = ? AND issuer = ? AND idp IS ? AND id <> ? AND issued_at <= ?
      ORDER BY issued_at DESC, id DESC LIMIT 1`),
    insertChange: db.prepare('INSERT INTO identity_changes (email, time, session_id, change) VALUES (?, ?, ?, ?)'),
    upsertActivity: db.prepare(`INSERT INTO session_apps
        (session_id, app, first_seen_at, last_seen_at, request_count, last_path)
      SELECT @sessionId, @app, @firstSeenAt, @lastSeenAt, @count, @lastPath
      WHERE EXISTS (SELECT 1 FROM sessions WHERE id = @sessionId)
      ${ACTIVITY_MERGE}`),
    // The activity of a session this very transaction inserted: the session is known to exist, so
    // no EXISTS probe (a second lookup of the new row), and positional parameters.
    upsertNewActivity: db.prepare(`INSERT INTO session_apps
        (session_id, app, first_seen_at, last_seen_at, request_count, last_path) VALUES (?, ?, ?, ?, ?, ?)
      ${ACTIVITY_MERGE}`),
    // Only when it moves last_seen_at forward: a no-op UPDATE would still rewrite the row and its
    // sessions_last_seen entry.
    touchFromActivity: db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?'),
    insertDecisions: DECISION_CHUNKS.map((rows) => db.prepare(insertDecisionsSql(rows))),
    revokeSession: db.prepare(revokeWhere('id = ?')),
    revokeUser: db.prepare(`${revokeWhere('email = ?')} RETURNING id`).pluck(),
    revokeLogin: db.prepare(`${revokeWhere('login_id = ?')} RETURNING id`).pluck(),
    revokeApp: db.prepare(`INSERT INTO app_revocations (app, revoked_before) VALUES (?, ?)
      ON CONFLICT (app) DO UPDATE SET revoked_before = max(revoked_before, excluded.revoked_before)`),
    revokedIds: db.prepare('SELECT id FROM sessions WHERE revoked_at IS NOT NULL').pluck(),
    appCutoffs: db.prepare('SELECT app, revoked_before FROM app_revocations'),
    purgeDecisions: db.prepare(
      'DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE time < ? ORDER BY time LIMIT ?)',
    ),
    purgeSessions: db.prepare('DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < ? LIMIT ?)'),
    heartbeat: db.prepare('UPDATE heartbeat SET at = ? WHERE id = 1'),
  };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly identities: SqliteIdentityStore;
  readonly events: SqliteEventStore;
  private readonly st: ReturnType<typeof prepare>;
  /** The admin API's reads over this connection (the gateway serves them from a worker instead). */
  readonly reader: SqliteReader;
  private readonly batchTx: (batch: RecordBatch) => void;
  private readonly decisionArgs = DECISION_CHUNKS.map((rows) => new DecisionParamWriter(rows));
  private readonly sessionArgs = new Array<string | number | null>(SESSION_INSERT_COLUMNS.split(',').length).fill(null);

  /** `db` is exposed for diagnostics and tests (pragmas); application code goes through Store. */
  constructor(
    readonly file: string,
    readonly db: Database.Database,
    readonly scim: SqliteScimStore = new SqliteScimStore(db),
    readonly refresh = new SqliteRefreshStore(db),
    readonly devices = new SqliteDeviceStore(db),
    readonly actions = new SqliteActionStore(db),
  ) {
    this.st = prepare(db);
    this.reader = new SqliteReader(db);
    this.identities = new SqliteIdentityStore(db);
    this.events = new SqliteEventStore(db);
    const tx = db.transaction((batch: RecordBatch) => this.applyBatch(batch));
    this.batchTx = (batch) => tx.immediate(batch);
  }

  async writeBatch(batch: RecordBatch): Promise<void> {
    this.batchTx(batch);
  }

  private applyBatch(batch: RecordBatch): void {
    // Oldest first, so each new session is compared with the one that really preceded it.
    const sessions = batch.sessions.length > 1 ? [...batch.sessions].sort((a, b) => a.issuedAt - b.issuedAt) : batch.sessions;
    const params = this.sessionArgs;
    // last_seen_at of the batch's sessions is at least this once they are written.
    const seenAt = new Map<string, number>();
    // Sessions this transaction inserted (most of a batch's sessions are new ones).
    const inserted = new Set<string>();
    for (const s of sessions) {
      seenAt.set(s.id, Math.max(seenAt.get(s.id) ?? s.lastSeenAt, s.lastSeenAt));
      if (this.st.insertSession.run(sessionInsertParams(s, params)).changes === 0) {
        // Known session: last-seen fields only. Identity and revocation are never overwritten.
        this.st.touchSession.run(sessionTouchParams(s));
        continue;
      }
      inserted.add(s.id);
      // The new row itself is excluded (id <>): the previous session is the one before it.
      if (s.email) this.recordIdentityChange(s);
    }
    for (const a of batch.activity) {
      if (inserted.has(a.sessionId)) this.st.upsertNewActivity.run(a.sessionId, a.app, a.firstSeenAt, a.lastSeenAt, a.count, a.lastPath);
      else this.st.upsertActivity.run(a);
      // A first request's activity comes with its session (same time): nothing to move then.
      const seen = seenAt.get(a.sessionId);
      if (seen === undefined || a.lastSeenAt > seen) this.st.touchFromActivity.run(a.lastSeenAt, a.sessionId, a.lastSeenAt);
    }
    this.insertDecisions(batch.decisions);
  }

  /** In batch order, chunk by chunk, through parameter arrays reused across batches. */
  private insertDecisions(decisions: readonly DecisionRecord[]): void {
    let i = 0;
    for (let c = 0; c < DECISION_CHUNKS.length; c++) {
      const rows = DECISION_CHUNKS[c] as number;
      const stmt = this.st.insertDecisions[c] as Database.Statement;
      const params = this.decisionArgs[c] as DecisionParamWriter;
      for (; i + rows <= decisions.length; i += rows) {
        for (let r = 0; r < rows; r++) params.put(r, decisions[i + r] as DecisionRecord);
        stmt.run(params.values);
      }
    }
  }

  /** Compares a new session with the user's previous one from the same issuer and IdP. */
  private recordIdentityChange(s: SessionUpsert): void {
    const prev = this.st.previousIdentity.get(s.email, s.issuer, s.idp ?? null, s.id, s.issuedAt) as
      | Pick<SessionRow, 'groups' | 'claims'>
      | undefined;
    if (!prev) return;
    const change = diffIdentity(
      { groups: JSON.parse(prev.groups) as string[], claims: JSON.parse(prev.claims) as Record<string, unknown> },
      { groups: s.groups ?? [], claims: s.claims ?? {} },
    );
    if (change) this.st.insertChange.run(s.email, s.issuedAt, s.id, JSON.stringify(change));
  }

  private durably<T>(fn: () => T): Promise<T> {
    return durably(this.db, fn);
  }

  revokeSession(id: string, by: string, reason: string, at: number): Promise<boolean> {
    return this.durably(() => {
      // An already revoked session keeps its first revocation (time, by, reason).
      if (this.st.revokeSession.run(at, by, reason, id).changes > 0) return true;
      return this.st.sessionExists.get(id) !== undefined;
    });
  }

  revokeUser(email: string, by: string, reason: string, at: number): Promise<string[]> {
    return this.durably(() => this.st.revokeUser.all(at, by, reason, email) as string[]);
  }

  revokeLogin(loginId: string, by: string, reason: string, at: number): Promise<string[]> {
    return this.durably(() => this.st.revokeLogin.all(at, by, reason, loginId) as string[]);
  }

  revokeSessions(ids: string[], by: string, reason: string, at: number, history: IdentityChange[] = []): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.durably(() => {
      const revoked = [...new Set(ids)].filter((id) => this.st.revokeSession.run(at, by, reason, id).changes > 0);
      for (const h of entriesOf(revoked, history)) this.identities.insert(h);
      return revoked;
    });
  }

  async revokeApp(app: string, at: number): Promise<void> {
    await this.durably(() => this.st.revokeApp.run(app, at));
  }

  async loadRevocations(): Promise<RevocationState> {
    const appCutoffs: Record<string, number> = {};
    for (const r of this.st.appCutoffs.all() as Array<{ app: string; revoked_before: number }>) {
      appCutoffs[r.app] = r.revoked_before;
    }
    return { sessionIds: this.st.revokedIds.all() as string[], appCutoffs, identities: this.identities.changed(Date.now()) };
  }

  // The admin reads (store/types.ts StoreReader), bound once so they can be passed around.
  readonly getSession: StoreReader['getSession'] = (id) => this.reader.getSession(id);
  readonly listSessions: StoreReader['listSessions'] = (q) => this.reader.listSessions(q);
  readonly countSessions: StoreReader['countSessions'] = (q, max) => this.reader.countSessions(q, max);
  readonly sessionActivity: StoreReader['sessionActivity'] = (id) => this.reader.sessionActivity(id);
  readonly appSessions: StoreReader['appSessions'] = (q) => this.reader.appSessions(q);
  readonly listUsers: StoreReader['listUsers'] = (q) => this.reader.listUsers(q);
  readonly userSummary: StoreReader['userSummary'] = (email, now) => this.reader.userSummary(email, now);
  readonly userSessions: StoreReader['userSessions'] = (email, limit) => this.reader.userSessions(email, limit);
  readonly identityHistory: StoreReader['identityHistory'] = (email, limit) => this.reader.identityHistory(email, limit);
  readonly listDecisions: StoreReader['listDecisions'] = (q) => this.reader.listDecisions(q);
  readonly appIdentities: StoreReader['appIdentities'] = (app, since, limit) => this.reader.appIdentities(app, since, limit);

  /** Deletes in chunks (each its own short transaction) so a large purge never stalls traffic. */
  async purge(before: number): Promise<{ decisions: number; sessions: number }> {
    const drain = (stmt: Database.Statement) => deleteInChunks(async (limit) => (await retryBusy(() => stmt.run(before, limit))).changes);
    const decisions = await drain(this.st.purgeDecisions);
    // session_apps rows go with their session (ON DELETE CASCADE).
    const sessions = await drain(this.st.purgeSessions);
    return { decisions, sessions };
  }

  /** One tiny write: fails on a read-only file, a locked database or (usually) a full disk. */
  async ping(): Promise<void> {
    this.st.heartbeat.run(Date.now());
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      this.db.pragma('optimize');
    } catch {
      // best effort
    }
    this.db.close();
  }
}

// The SQLite side of live identity (store/types.ts IdentityStore): finding a change's sessions,
// writing identity versions with their history in one durable transaction, reading history.
import type Database from 'better-sqlite3';
import { durably } from './db.js';
import { changeFromRow, sessionFromRow, type ChangeRow, type SessionRow } from './rows.js';
import type { IdentityChange, IdentityStore, IdentityVersionWrite, LiveIdentityRow, SessionRecord, SessionSelector } from '../types.js';

const LIVE = 'revoked_at IS NULL AND expires_at > @now';

export class SqliteIdentityStore implements IdentityStore {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      byId: db.prepare(`SELECT * FROM sessions WHERE id = @id AND ${LIVE}`),
      byEmail: db.prepare(`SELECT * FROM sessions WHERE email = @email AND ${LIVE} ORDER BY issued_at, id`),
      byUser: db.prepare(`SELECT * FROM sessions WHERE user_id = @userId AND ${LIVE}
        AND (issuer IN (SELECT value FROM json_each(@issuers)) OR idp IN (SELECT value FROM json_each(@idps)))
        ORDER BY issued_at, id`),
      bySid: db.prepare(`SELECT * FROM sessions WHERE idp = @idp AND idp_sid = @sid AND ${LIVE} ORDER BY issued_at, id`),
      setVersion: db.prepare('UPDATE sessions SET identity_version = ?, live_state = ? WHERE id = ? AND identity_version = ?'),
      insertChange: db.prepare('INSERT INTO identity_changes (email, time, session_id, change, source, version, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      sessionHistory: db.prepare('SELECT * FROM identity_changes WHERE session_id = ? ORDER BY time DESC, id DESC'),
      changed: db.prepare(`SELECT id AS sessionId, identity_version AS version FROM sessions WHERE identity_version > 0 AND ${LIVE}`),
      state: db.prepare('SELECT id, identity_version, live_state FROM sessions WHERE id = ? AND identity_version > 0'),
    };
  }

  async find(sel: SessionSelector, now: number): Promise<SessionRecord[]> {
    let rows: unknown[];
    if ('id' in sel) rows = this.st.byId.all({ id: sel.id, now });
    else if ('email' in sel) rows = this.st.byEmail.all({ email: sel.email, now });
    else if ('sid' in sel) rows = this.st.bySid.all({ idp: sel.idp, sid: sel.sid, now });
    else rows = this.st.byUser.all({ userId: sel.userId, issuers: JSON.stringify(sel.issuers), idps: JSON.stringify(sel.idps), now });
    return (rows as SessionRow[]).map(sessionFromRow);
  }

  write(w: IdentityVersionWrite): Promise<boolean> {
    return this.durably(() => {
      if (this.st.setVersion.run(w.version, JSON.stringify(w.state), w.sessionId, w.expected).changes === 0) return false;
      this.insert(w.change);
      return true;
    });
  }

  async record(change: IdentityChange): Promise<void> {
    await this.durably(() => this.insert(change));
  }

  async sessionHistory(id: string): Promise<IdentityChange[]> {
    return (this.st.sessionHistory.all(id) as ChangeRow[]).map(changeFromRow);
  }

  async states(ids: string[]): Promise<LiveIdentityRow[]> {
    const out: LiveIdentityRow[] = [];
    for (const id of ids) {
      const r = this.st.state.get(id) as { id: string; identity_version: number; live_state: string | null } | undefined;
      if (r?.live_state) out.push({ sessionId: r.id, version: r.identity_version, state: JSON.parse(r.live_state) as Record<string, unknown> });
    }
    return out;
  }

  /** Live sessions whose identity changed (for the revocation snapshot). */
  changed(now: number): Array<{ sessionId: string; version: number }> {
    return this.st.changed.all({ now }) as Array<{ sessionId: string; version: number }>;
  }

  /** One history entry, inside the caller's transaction (a batch revocation's, say). */
  insert(c: IdentityChange): void {
    this.st.insertChange.run(c.email, c.time, c.sessionId, JSON.stringify(c.change), c.source ?? 'login', c.version ?? null, c.eventId ?? null);
  }

  /** Identity changes are promised durable like revocations. */
  private durably<T>(fn: () => T): Promise<T> {
    return durably(this.db, fn);
  }
}

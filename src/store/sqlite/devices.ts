// The SQLite side of devices (store/device-types.ts): the record as JSON beside its lookup columns.
import type Database from 'better-sqlite3';
import { durably } from './db.js';
import type { DeviceRecord, DeviceState, DeviceStore } from '../device-types.js';

type Row = { record: string };
const parse = (r: Row | undefined): DeviceRecord | null => (r ? (JSON.parse(r.record) as DeviceRecord) : null);

export class SqliteDeviceStore implements DeviceStore {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      insert: db.prepare('INSERT INTO devices (id, owner, credential_id, state, enrolled_at, record) VALUES (?, ?, ?, ?, ?, ?)'),
      get: db.prepare('SELECT record FROM devices WHERE id = ?'),
      byCredential: db.prepare('SELECT record FROM devices WHERE credential_id = ?'),
      list: db.prepare(`SELECT record FROM devices WHERE (@owner IS NULL OR owner = @owner) AND (@state IS NULL OR state = @state) ORDER BY enrolled_at, id`),
      save: db.prepare('UPDATE devices SET state = ?, record = ? WHERE id = ?'),
      bind: db.prepare('INSERT INTO device_sessions (session_id, device_id, bound_at) VALUES (?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET device_id = excluded.device_id, bound_at = excluded.bound_at'),
      bound: db.prepare(`SELECT b.session_id AS id FROM device_sessions b JOIN sessions s ON s.id = b.session_id
        WHERE b.device_id = ? AND s.revoked_at IS NULL AND s.expires_at > ? ORDER BY b.bound_at, b.session_id`),
    };
  }

  async create(d: DeviceRecord): Promise<void> {
    await durably(this.db, () => this.st.insert.run(d.id, d.owner, d.credentialId, d.state, d.enrolledAt, JSON.stringify(d)));
  }

  async get(id: string): Promise<DeviceRecord | null> {
    return parse(this.st.get.get(id) as Row | undefined);
  }

  async byCredential(credentialId: string): Promise<DeviceRecord | null> {
    return parse(this.st.byCredential.get(credentialId) as Row | undefined);
  }

  async list(q: { owner?: string; state?: DeviceState }): Promise<DeviceRecord[]> {
    return (this.st.list.all({ owner: q.owner ?? null, state: q.state ?? null }) as Row[]).map((r) => parse(r) as DeviceRecord);
  }

  update(id: string, change: (d: DeviceRecord) => DeviceRecord): Promise<DeviceRecord | null> {
    return durably(this.db, () => {
      const current = parse(this.st.get.get(id) as Row | undefined);
      if (!current) return null;
      const next = change(current);
      this.st.save.run(next.state, JSON.stringify(next), id);
      return next;
    });
  }

  async bind(sessionId: string, deviceId: string, at: number): Promise<void> {
    await durably(this.db, () => this.st.bind.run(sessionId, deviceId, at));
  }

  async boundSessions(deviceId: string, now: number): Promise<string[]> {
    return (this.st.bound.all(deviceId, now) as Array<{ id: string }>).map((r) => r.id);
  }
}

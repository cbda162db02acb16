// The PostgreSQL side of devices (store/device-types.ts): the record as JSONB beside its lookup
// columns; updates lock the row, so concurrent changes on several instances never lose one.
import type pg from 'pg';
import { inTransaction, pgInt, pgJson, pgText, quoteIdent } from './db.js';
import type { DeviceRecord, DeviceState, DeviceStore } from '../device-types.js';

function statements(schema: string) {
  const s = quoteIdent(schema);
  return {
    durable: `SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') IN ('off', 'local')`,
    insert: `INSERT INTO ${s}.devices (id, owner, credential_id, state, enrolled_at, record) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
    get: `SELECT record FROM ${s}.devices WHERE id = $1`,
    lock: `SELECT record FROM ${s}.devices WHERE id = $1 FOR UPDATE`,
    byCredential: `SELECT record FROM ${s}.devices WHERE credential_id = $1`,
    list: `SELECT record FROM ${s}.devices WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR state = $2) ORDER BY enrolled_at, id`,
    save: `UPDATE ${s}.devices SET state = $1, record = $2::jsonb WHERE id = $3`,
    bind: `INSERT INTO ${s}.device_sessions (session_id, device_id, bound_at) VALUES ($1, $2, $3)
      ON CONFLICT (session_id) DO UPDATE SET device_id = excluded.device_id, bound_at = excluded.bound_at`,
    bound: `SELECT b.session_id AS id FROM ${s}.device_sessions b JOIN ${s}.sessions x ON x.id = b.session_id
      WHERE b.device_id = $1 AND x.revoked_at IS NULL AND x.expires_at > $2 ORDER BY b.bound_at, b.session_id`,
  };
}

type Row = { record: DeviceRecord };

export class PostgresDeviceStore implements DeviceStore {
  private readonly st: ReturnType<typeof statements>;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.st = statements(schema);
  }

  async create(d: DeviceRecord): Promise<void> {
    await this.durably((c) => c.query(this.st.insert, [pgText(d.id), pgText(d.owner), pgText(d.credentialId), d.state, pgInt(d.enrolledAt), pgJson(d)]));
  }

  async get(id: string): Promise<DeviceRecord | null> {
    return (await this.pool.query<Row>(this.st.get, [pgText(id)])).rows[0]?.record ?? null;
  }

  async byCredential(credentialId: string): Promise<DeviceRecord | null> {
    return (await this.pool.query<Row>(this.st.byCredential, [pgText(credentialId)])).rows[0]?.record ?? null;
  }

  async list(q: { owner?: string; state?: DeviceState }): Promise<DeviceRecord[]> {
    return (await this.pool.query<Row>(this.st.list, [pgText(q.owner ?? null), q.state ?? null])).rows.map((r) => r.record);
  }

  update(id: string, change: (d: DeviceRecord) => DeviceRecord): Promise<DeviceRecord | null> {
    return this.durably(async (c) => {
      const current = (await c.query<Row>(this.st.lock, [pgText(id)])).rows[0]?.record;
      if (!current) return null;
      const next = change(current);
      await c.query(this.st.save, [next.state, pgJson(next), pgText(id)]);
      return next;
    });
  }

  async bind(sessionId: string, deviceId: string, at: number): Promise<void> {
    await this.durably((c) => c.query(this.st.bind, [pgText(sessionId), pgText(deviceId), pgInt(at)]));
  }

  async boundSessions(deviceId: string, now: number): Promise<string[]> {
    return (await this.pool.query<{ id: string }>(this.st.bound, [pgText(deviceId), pgInt(now)])).rows.map((r) => r.id);
  }

  private durably<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (c) => {
      await c.query(this.st.durable);
      return fn(c);
    });
  }
}

// The PostgreSQL side of received identity events (store/event-types.ts): replay marks every
// instance shares (the primary key makes exactly one of concurrent receivers win) and device
// compliance. Durable before they resolve, like revocations.
import type pg from 'pg';
import { inTransaction, pgInt, pgText, quoteIdent } from './db.js';
import type { DeviceCompliance, EventStore } from '../event-types.js';

interface PgDeviceRow {
  subject: string;
  device: string;
  status: string;
  time: string;
  source: string;
  event_id: string | null;
}

function statements(schema: string) {
  const s = quoteIdent(schema);
  return {
    durable: `SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') IN ('off', 'local')`,
    expire: `DELETE FROM ${s}.seen_events WHERE expires_at <= $1`,
    forget: `DELETE FROM ${s}.seen_events WHERE channel = $1 AND id = $2`,
    mark: `INSERT INTO ${s}.seen_events (channel, id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (channel, id) DO NOTHING`,
    device: `SELECT status FROM ${s}.device_compliance WHERE subject = $1 AND device = $2 FOR UPDATE`,
    setDevice: `INSERT INTO ${s}.device_compliance (subject, device, status, time, source, event_id) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (subject, device) DO UPDATE SET status = excluded.status, time = excluded.time, source = excluded.source, event_id = excluded.event_id`,
    devices: `SELECT * FROM ${s}.device_compliance WHERE subject = $1 ORDER BY time DESC, device`,
  };
}

export class PostgresEventStore implements EventStore {
  private readonly st: ReturnType<typeof statements>;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.st = statements(schema);
  }

  firstSeen(channel: string, id: string, expiresAt: number, now: number): Promise<boolean> {
    return this.durably(async (c) => {
      await c.query(this.st.expire, [pgInt(now)]);
      const res = await c.query(this.st.mark, [pgText(channel), pgText(id), pgInt(expiresAt)]);
      return (res.rowCount ?? 0) === 1;
    });
  }

  async forget(channel: string, id: string): Promise<void> {
    await this.pool.query(this.st.forget, [pgText(channel), pgText(id)]);
  }

  setDeviceCompliance(d: DeviceCompliance): Promise<string | null> {
    return this.durably(async (c) => {
      const prev = await c.query<{ status: string }>(this.st.device, [pgText(d.subject), pgText(d.device)]);
      await c.query(this.st.setDevice, [pgText(d.subject), pgText(d.device), pgText(d.status), pgInt(d.time), pgText(d.source), pgText(d.eventId)]);
      return prev.rows[0]?.status ?? null;
    });
  }

  async deviceCompliance(subject: string): Promise<DeviceCompliance[]> {
    const res = await this.pool.query<PgDeviceRow>(this.st.devices, [pgText(subject)]);
    return res.rows.map((r) => ({ subject: r.subject, device: r.device, status: r.status, time: Number(r.time), source: r.source, eventId: r.event_id }));
  }

  private durably<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (c) => {
      await c.query(this.st.durable);
      return fn(c);
    });
  }
}

// The SQLite side of received identity events (store/event-types.ts): replay marks and device
// compliance. Both are written durably (synchronous=FULL for the transaction), like revocations.
import type Database from 'better-sqlite3';
import { durably } from './db.js';
import type { DeviceCompliance, EventStore } from '../event-types.js';

interface DeviceRow {
  subject: string;
  device: string;
  status: string;
  time: number;
  source: string;
  event_id: string | null;
}

export class SqliteEventStore implements EventStore {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      expire: db.prepare('DELETE FROM seen_events WHERE expires_at <= ?'),
      forget: db.prepare('DELETE FROM seen_events WHERE channel = ? AND id = ?'),
      mark: db.prepare('INSERT INTO seen_events (channel, id, expires_at) VALUES (?, ?, ?) ON CONFLICT (channel, id) DO NOTHING'),
      device: db.prepare('SELECT status FROM device_compliance WHERE subject = ? AND device = ?'),
      setDevice: db.prepare(`INSERT INTO device_compliance (subject, device, status, time, source, event_id) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (subject, device) DO UPDATE SET status = excluded.status, time = excluded.time, source = excluded.source, event_id = excluded.event_id`),
      devices: db.prepare('SELECT * FROM device_compliance WHERE subject = ? ORDER BY time DESC, device'),
    };
  }

  firstSeen(channel: string, id: string, expiresAt: number, now: number): Promise<boolean> {
    return durably(this.db, () => {
      // Received events are rare (a handful a minute): dropping the expired marks here keeps the table small.
      this.st.expire.run(now);
      return this.st.mark.run(channel, id, expiresAt).changes === 1;
    });
  }

  async forget(channel: string, id: string): Promise<void> {
    await durably(this.db, () => this.st.forget.run(channel, id));
  }

  setDeviceCompliance(d: DeviceCompliance): Promise<string | null> {
    return durably(this.db, () => {
      const prev = this.st.device.get(d.subject, d.device) as { status: string } | undefined;
      this.st.setDevice.run(d.subject, d.device, d.status, d.time, d.source, d.eventId);
      return prev?.status ?? null;
    });
  }

  async deviceCompliance(subject: string): Promise<DeviceCompliance[]> {
    return (this.st.devices.all(subject) as DeviceRow[]).map((r) => ({
      subject: r.subject,
      device: r.device,
      status: r.status,
      time: r.time,
      source: r.source,
      eventId: r.event_id,
    }));
  }
}

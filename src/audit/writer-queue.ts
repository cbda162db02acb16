// The RecordWriter's pending records: coalesced sessions, aggregated activity, allowed decisions
// (record_allowed: all) and kept decisions (denials, unauthenticated). Adding is O(1) with no I/O.
//
// Limits: at the soft limit new allow records (activity, allowed decisions) are refused and a kept
// record evicts the oldest allow record; sessions and kept decisions may grow past the soft limit
// up to the hard limit, beyond which the oldest of them is dropped (counted as critical).
import type { AppActivity, DecisionRecord, RecordBatch, SessionUpsert } from '../store/types.js';

export interface DropCounters {
  /** Allowed requests not recorded (an evicted aggregate counts all its requests). */
  dropped: number;
  /** Sessions or kept decisions lost beyond the hard limit. */
  droppedCritical: number;
}

export class PendingRecords {
  sessions = new Map<string, SessionUpsert>();
  /** sessionId → app → aggregate (nested maps: no key string built per request). */
  activity = new Map<string, Map<string, AppActivity>>();
  activityCount = 0;
  allowed: DecisionRecord[] = [];
  kept: DecisionRecord[] = [];

  constructor(
    readonly softLimit: number,
    readonly hardLimit: number,
    /** Shared by the successive queues of one writer. */
    readonly counters: DropCounters,
  ) {}

  get size(): number {
    return this.sessions.size + this.activityCount + this.allowed.length + this.kept.length;
  }

  /** Coalesces by id: the record with the newest last-seen wins, keeping the earliest first-seen. */
  addSession(s: SessionUpsert): void {
    const prev = this.sessions.get(s.id);
    if (prev) {
      if (s.lastSeenAt < prev.lastSeenAt) return;
      this.sessions.set(s.id, s.firstSeenAt <= prev.firstSeenAt ? s : { ...s, firstSeenAt: prev.firstSeenAt });
      return;
    }
    this.makeRoomForCritical();
    this.sessions.set(s.id, s);
  }

  addActivity(sessionId: string, app: string, path: string, time: number): void {
    const agg = this.activity.get(sessionId)?.get(app);
    if (agg) {
      agg.count++;
      if (time >= agg.lastSeenAt) {
        agg.lastSeenAt = time;
        agg.lastPath = path;
      } else if (time < agg.firstSeenAt) {
        agg.firstSeenAt = time;
      }
      return;
    }
    if (this.size >= this.softLimit) {
      this.counters.dropped++;
      return;
    }
    this.insertActivity({ sessionId, app, count: 1, firstSeenAt: time, lastSeenAt: time, lastPath: path });
  }

  private insertActivity(a: AppActivity): void {
    let apps = this.activity.get(a.sessionId);
    if (!apps) {
      apps = new Map();
      this.activity.set(a.sessionId, apps);
    }
    apps.set(a.app, a);
    this.activityCount++;
  }

  addAllowed(d: DecisionRecord): void {
    if (this.size >= this.softLimit) {
      this.counters.dropped++;
      return;
    }
    this.allowed.push(d);
  }

  addKept(d: DecisionRecord): void {
    this.makeRoomForCritical();
    this.kept.push(d);
  }

  /** Allow records go first; past the hard limit the oldest critical record goes. */
  private makeRoomForCritical(): void {
    if (this.size < this.softLimit || this.evictAllow()) return;
    if (this.size >= this.hardLimit) this.evictCritical();
  }

  private evictAllow(): boolean {
    if (this.allowed.length > 0) {
      this.allowed.shift();
      this.counters.dropped++;
      return true;
    }
    for (const [sessionId, apps] of this.activity) {
      for (const [app, agg] of apps) {
        apps.delete(app);
        if (apps.size === 0) this.activity.delete(sessionId);
        this.activityCount--;
        this.counters.dropped += agg.count;
        return true;
      }
    }
    return false;
  }

  private evictCritical(): void {
    if (this.kept.length > 0) this.kept.shift();
    else this.sessions.delete(this.sessions.keys().next().value as string);
    this.counters.droppedCritical++;
  }

  /**
   * Moves up to `max` records into a new queue, in write order: sessions first (so activity is
   * never written before its session), then activity, kept and allowed decisions.
   */
  take(max: number): PendingRecords {
    const out = new PendingRecords(this.softLimit, this.hardLimit, this.counters);
    let budget = max;
    for (const [id, s] of this.sessions) {
      if (budget === 0) break;
      out.sessions.set(id, s);
      this.sessions.delete(id);
      budget--;
    }
    for (const [sessionId, apps] of this.activity) {
      for (const [app, a] of apps) {
        if (budget === 0) break;
        out.insertActivity(a);
        apps.delete(app);
        this.activityCount--;
        budget--;
      }
      if (apps.size === 0) this.activity.delete(sessionId);
      if (budget === 0) break;
    }
    out.kept = this.kept.splice(0, budget);
    budget -= out.kept.length;
    out.allowed = this.allowed.splice(0, budget);
    return out;
  }

  toBatch(): RecordBatch {
    const activity: AppActivity[] = [];
    for (const apps of this.activity.values()) for (const a of apps.values()) activity.push(a);
    return {
      sessions: [...this.sessions.values()],
      activity,
      decisions: this.allowed.length === 0 ? this.kept : this.kept.concat(this.allowed),
    };
  }

  /**
   * Puts an unwritten batch (`older`) back in front of what arrived meanwhile (`newer`), then
   * enforces the limits again. Both inputs are consumed.
   */
  static merge(older: PendingRecords, newer: PendingRecords): PendingRecords {
    const merged = older;
    for (const s of newer.sessions.values()) {
      const prev = merged.sessions.get(s.id);
      if (!prev) merged.sessions.set(s.id, s);
      else if (s.lastSeenAt >= prev.lastSeenAt) {
        merged.sessions.set(s.id, s.firstSeenAt <= prev.firstSeenAt ? s : { ...s, firstSeenAt: prev.firstSeenAt });
      }
    }
    for (const apps of newer.activity.values()) {
      for (const a of apps.values()) {
        const agg = merged.activity.get(a.sessionId)?.get(a.app);
        if (!agg) {
          merged.insertActivity(a);
          continue;
        }
        agg.count += a.count;
        agg.firstSeenAt = Math.min(agg.firstSeenAt, a.firstSeenAt);
        if (a.lastSeenAt >= agg.lastSeenAt) {
          agg.lastSeenAt = a.lastSeenAt;
          agg.lastPath = a.lastPath;
        }
      }
    }
    merged.allowed = merged.allowed.concat(newer.allowed);
    merged.kept = merged.kept.concat(newer.kept);
    merged.trim();
    return merged;
  }

  private trim(): void {
    while (this.size > this.softLimit && this.evictAllow());
    while (this.size > this.hardLimit) this.evictCritical();
  }
}

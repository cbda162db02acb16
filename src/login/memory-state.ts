// Sign-in state in memory, for a store that is not shared (SQLite: one machine). Bounded (LRU), so a
// flood of unfinished sign-ins or a spray of random emails cannot grow memory; the oldest go first.
// With `workers: N` every change is mirrored to the other workers through the primary (peers.ts),
// and a take that misses waits briefly for a put still on its way from another worker.
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { SignInState, ThrottleEntry } from '../store/types.js';
import type { Peers } from './peers.js';

const TOPIC = 'signin';
const MAX_ENTRIES = 50_000;
/**
 * Bounded by count through maxSize (every entry weighs 1) rather than `max`: lru-cache preallocates
 * its arrays for `max` entries up front (three caches × 50,000 slots: ~3.5 MiB in every process),
 * while this bound grows them only as sign-ins arrive. Same LRU eviction, same bound.
 */
const BOUND = { maxSize: MAX_ENTRIES, sizeCalculation: () => 1 } as const;
/** How long a miss waits for a put from another worker still in flight (worker-to-worker is ~1 ms). */
const PEER_WAIT_MS = 100;

interface Timed<T> {
  value: T;
  expiresAt: number;
}

type Op =
  | { op: 'put'; key: string; value: string; expiresAt: number }
  | { op: 'take'; key: string }
  | { op: 'mark'; key: string; value: number; expiresAt: number }
  | { op: 'throttle'; key: string; entry: ThrottleEntry | null };

export class MemorySignInState implements SignInState {
  private readonly once = new LRUCache<string, Timed<string>>(BOUND);
  private readonly marks = new LRUCache<string, Timed<number>>(BOUND);
  private readonly throttle = new LRUCache<string, ThrottleEntry>(BOUND);

  constructor(private readonly peers?: Peers) {
    peers?.on<Op>(TOPIC, (m) => this.apply(m));
  }

  private apply(m: Op): void {
    if (m.op === 'put') this.once.set(m.key, { value: m.value, expiresAt: m.expiresAt });
    else if (m.op === 'take') this.once.delete(m.key);
    else if (m.op === 'mark') this.raise(m.key, m.value, m.expiresAt, Date.now());
    else if (m.entry) this.throttle.set(m.key, m.entry);
    else this.throttle.delete(m.key);
  }

  private send(m: Op): void {
    this.peers?.send(TOPIC, m);
  }

  putOnce(key: string, value: string, expiresAt: number): Promise<void> {
    const m: Op = { op: 'put', key, value, expiresAt };
    this.apply(m);
    this.send(m);
    return Promise.resolve();
  }

  async takeOnce(key: string, now: number): Promise<string | null> {
    const deadline = Date.now() + (this.peers?.shared ? PEER_WAIT_MS : 0);
    for (;;) {
      const v = this.once.get(key);
      if (v) {
        this.once.delete(key);
        this.send({ op: 'take', key });
        return v.expiresAt > now ? v.value : null;
      }
      if (Date.now() >= deadline) return null;
      await sleep(10);
    }
  }

  private raise(key: string, value: number, expiresAt: number, now: number): boolean {
    const m = this.marks.get(key);
    if (m && m.expiresAt > now && m.value >= value) return false;
    this.marks.set(key, { value, expiresAt });
    return true;
  }

  advance(key: string, value: number, expiresAt: number, now: number): Promise<boolean> {
    const raised = this.raise(key, value, expiresAt, now);
    if (raised) this.send({ op: 'mark', key, value, expiresAt });
    return Promise.resolve(raised);
  }

  throttleEntries(keys: string[], now: number): Promise<Map<string, ThrottleEntry>> {
    const out = new Map<string, ThrottleEntry>();
    for (const k of keys) {
      const e = this.throttle.get(k);
      if (e && e.expiresAt > now) out.set(k, e);
    }
    return Promise.resolve(out);
  }

  updateThrottle(key: string, now: number, update: (current: ThrottleEntry | null) => ThrottleEntry | null): Promise<ThrottleEntry | null> {
    const current = this.throttle.get(key);
    const entry = update(current && current.expiresAt > now ? structuredClone(current) : null);
    this.apply({ op: 'throttle', key, entry });
    this.send({ op: 'throttle', key, entry });
    return Promise.resolve(entry);
  }

  lockedEntries(now: number): Promise<Map<string, ThrottleEntry>> {
    const out = new Map<string, ThrottleEntry>();
    for (const [k, e] of this.throttle.entries()) if (e.lockedUntil > now) out.set(k, e);
    return Promise.resolve(out);
  }

  deleteThrottle(key: string, now: number): Promise<ThrottleEntry | null> {
    const e = this.throttle.get(key);
    this.apply({ op: 'throttle', key, entry: null });
    this.send({ op: 'throttle', key, entry: null });
    return Promise.resolve(e && e.expiresAt > now ? e : null);
  }
}

// A bounded, expiring, take-once map: sign-in flow states (10 min) and handoff codes (60 s).
// Bounded so that a flood of unfinished sign-ins cannot grow memory; the oldest are dropped first.
// With several workers, puts and takes are mirrored to the others (peers.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Peers } from './peers.js';

type Op<T> = { op: 'put'; key: string; value: T } | { op: 'take'; key: string };

/** How long a miss waits for a put from another worker still in flight (worker-to-worker is ~1 ms). */
const PEER_WAIT_MS = 100;

export class SingleUseStore<T extends object> {
  private readonly cache: LRUCache<string, T>;

  constructor(
    readonly ttlMs: number,
    max: number,
    now: () => number = Date.now,
    private readonly peers?: { peers: Peers; topic: string },
  ) {
    // perf.now is lru-cache's own clock; an injected one lets tests expire entries without waiting.
    this.cache = new LRUCache<string, T>({ max, ttl: ttlMs, ttlAutopurge: false, ttlResolution: 0, perf: { now } });
    peers?.peers.on<Op<T>>(peers.topic, (m) => {
      if (m.op === 'put') this.cache.set(m.key, m.value);
      else this.cache.delete(m.key);
    });
  }

  put(key: string, value: T): void {
    this.cache.set(key, value);
    this.peers?.peers.send(this.peers.topic, { op: 'put', key, value } satisfies Op<T>);
  }

  /** The value, removed (on every worker): a second take of the same key finds nothing. */
  take(key: string): T | undefined {
    const value = this.cache.get(key);
    if (value === undefined) return undefined;
    this.cache.delete(key);
    this.peers?.peers.send(this.peers.topic, { op: 'take', key } satisfies Op<T>);
    return value;
  }

  /**
   * take(), but with other workers a miss waits briefly: the browser can be faster than the message
   * announcing the put (a handoff redirect goes straight to another host, maybe another worker).
   */
  async takeSoon(key: string): Promise<T | undefined> {
    const deadline = Date.now() + (this.peers?.peers.shared ? PEER_WAIT_MS : 0);
    for (;;) {
      const v = this.take(key);
      if (v !== undefined || Date.now() >= deadline) return v;
      await sleep(10);
    }
  }

  get size(): number {
    return this.cache.size;
  }
}

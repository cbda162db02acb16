// Failed local sign-ins are throttled per user and per client address: `threshold` failures within
// `window` lock the key for `duration`. A client address gets IP_FACTOR× the user threshold, because
// one office behind NAT shares an address and a few typos there must not lock everybody out.
// Unknown emails are counted like known ones, so a lockout says nothing about who has an account.
// Bounded (LRU) so a spray of random emails cannot grow memory. Admins read lockouts(). With several
// workers every failure, success and unlock is mirrored to the others, so the counts are global.
import { LRUCache } from 'lru-cache';
import type { Peers } from './peers.js';

export const IP_FACTOR = 4;
const MAX_KEYS = 50_000;

export type LockoutKind = 'user' | 'ip';

export interface Lockout {
  /** The email (lowercased) or the client address. */
  key: string;
  kind: LockoutKind;
  /** Epoch ms when the lock ends. */
  until: number;
  /** Failures counted in the window that caused it. */
  failures: number;
}

export interface ThrottleSettings {
  lockoutThreshold: number;
  lockoutWindowMs: number;
  lockoutDurationMs: number;
}

type Op = { op: 'fail'; email: string; ip: string; at: number } | { op: 'succeed'; email: string } | { op: 'unlock'; kind: LockoutKind; key: string };
const TOPIC = 'throttle';

interface Entry {
  /** Epoch ms of recent failures, oldest first (at most the threshold). */
  failures: number[];
  lockedUntil: number;
  /** Failures that caused the current lock. */
  lockedAfter: number;
}

export class LoginThrottle {
  private readonly entries = new LRUCache<string, Entry>({ max: MAX_KEYS });

  constructor(
    private settings: ThrottleSettings,
    private readonly now: () => number = Date.now,
    private readonly peers?: Peers,
  ) {
    peers?.on<Op>(TOPIC, (m) => {
      if (m.op === 'fail') this.countBoth(m.email, m.ip, m.at);
      else if (m.op === 'succeed') this.entries.delete(`user:${m.email}`);
      else this.entries.delete(`${m.kind}:${m.key}`);
    });
  }

  /** Settings follow config reloads; existing counts are kept. */
  configure(settings: ThrottleSettings): void {
    this.settings = settings;
  }

  /** The lock in force for this user or address, if any (checked before any password work). */
  locked(email: string, ip: string): Lockout | null {
    const now = this.now();
    for (const [kind, key] of [['user', normEmail(email)], ['ip', ip]] as const) {
      const e = this.entries.get(`${kind}:${key}`);
      if (e && e.lockedUntil > now) return { key, kind, until: e.lockedUntil, failures: e.lockedAfter };
    }
    return null;
  }

  /** Counts one failure against both keys; returns a lock when this failure caused one. */
  fail(email: string, ip: string): Lockout | null {
    const at = this.now();
    this.peers?.send(TOPIC, { op: 'fail', email: normEmail(email), ip, at } satisfies Op);
    return this.countBoth(normEmail(email), ip, at);
  }

  private countBoth(email: string, ip: string, at: number): Lockout | null {
    const user = this.count('user', email, this.settings.lockoutThreshold, at);
    const addr = this.count('ip', ip, this.settings.lockoutThreshold * IP_FACTOR, at);
    return user ?? addr;
  }

  /** A success clears the user's failures (not the address's: one success must not reset a spray). */
  succeed(email: string): void {
    this.entries.delete(`user:${normEmail(email)}`);
    this.peers?.send(TOPIC, { op: 'succeed', email: normEmail(email) } satisfies Op);
  }

  /** Every lock in force now. */
  lockouts(): Lockout[] {
    const now = this.now();
    const out: Lockout[] = [];
    for (const [k, e] of this.entries.entries()) {
      if (e.lockedUntil <= now) continue;
      const i = k.indexOf(':');
      out.push({ kind: k.slice(0, i) as LockoutKind, key: k.slice(i + 1), until: e.lockedUntil, failures: e.lockedAfter });
    }
    return out.sort((a, b) => a.until - b.until);
  }

  /** Lifts a lock (admin action). Returns whether there was one. */
  unlock(kind: LockoutKind, key: string): boolean {
    const norm = kind === 'user' ? normEmail(key) : key;
    const e = this.entries.get(`${kind}:${norm}`);
    const was = e !== undefined && e.lockedUntil > this.now();
    this.entries.delete(`${kind}:${norm}`);
    this.peers?.send(TOPIC, { op: 'unlock', kind, key: norm } satisfies Op);
    return was;
  }

  private count(kind: LockoutKind, key: string, threshold: number, now: number): Lockout | null {
    const k = `${kind}:${key}`;
    const e = this.entries.get(k) ?? { failures: [], lockedUntil: 0, lockedAfter: 0 };
    const since = now - this.settings.lockoutWindowMs;
    e.failures = e.failures.filter((t) => t > since);
    e.failures.push(now);
    if (e.failures.length > threshold) e.failures.splice(0, e.failures.length - threshold);
    this.entries.set(k, e);
    if (e.failures.length >= threshold && e.lockedUntil <= now) {
      // Counting starts afresh once the lock ends.
      e.lockedUntil = now + this.settings.lockoutDurationMs;
      e.lockedAfter = e.failures.length;
      e.failures = [];
      return { key, kind, until: e.lockedUntil, failures: e.lockedAfter };
    }
    return null;
  }
}

export function normEmail(email: string): string {
  return email.trim().toLowerCase();
}

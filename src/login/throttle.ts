// Failed local sign-ins are throttled per user and per client address: `threshold` failures within
// `window` lock the key for `duration`. A client address gets IP_FACTOR× the user threshold, because
// one office behind NAT shares an address and a few typos there must not lock everybody out.
// Unknown emails are counted like known ones, so a lockout says nothing about who has an account.
// The counts live in the sign-in state (store/types.ts SignInState): in PostgreSQL when the store is
// shared, so a failure on any instance counts and a lock (or an admin's unlock) applies on all of
// them; in bounded memory (mirrored between workers) otherwise.
import type { SignInState, ThrottleEntry } from '../store/types.js';

export const IP_FACTOR = 4;

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

const stateKey = (kind: LockoutKind, key: string) => `throttle:${kind}:${key}`;

function lockoutOf(stored: string, e: ThrottleEntry): Lockout {
  const [, kind, ...rest] = stored.split(':');
  return { kind: kind as LockoutKind, key: rest.join(':'), until: e.lockedUntil, failures: e.lockedAfter };
}

export class LoginThrottle {
  constructor(
    private settings: ThrottleSettings,
    private readonly state: SignInState,
    private readonly now: () => number = Date.now,
  ) {}

  /** Settings follow config reloads; existing counts are kept. */
  configure(settings: ThrottleSettings): void {
    this.settings = settings;
  }

  /** The lock in force for this user or address, if any (checked before any password work). */
  async locked(email: string, ip: string): Promise<Lockout | null> {
    const now = this.now();
    const keys = [stateKey('user', normEmail(email)), stateKey('ip', ip)];
    const entries = await this.state.throttleEntries(keys, now);
    for (const k of keys) {
      const e = entries.get(k);
      if (e && e.lockedUntil > now) return lockoutOf(k, e);
    }
    return null;
  }

  /** Counts one failure against both keys; returns a lock when this failure caused one. */
  async fail(email: string, ip: string): Promise<Lockout | null> {
    const at = this.now();
    const [user, addr] = await Promise.all([
      this.count('user', normEmail(email), this.settings.lockoutThreshold, at),
      this.count('ip', ip, this.settings.lockoutThreshold * IP_FACTOR, at),
    ]);
    return user ?? addr;
  }

  /** A success clears the user's failures (not the address's: one success must not reset a spray). */
  async succeed(email: string): Promise<void> {
    await this.state.deleteThrottle(stateKey('user', normEmail(email)), this.now());
  }

  /** Every lock in force now, on any instance. */
  async lockouts(): Promise<Lockout[]> {
    const locked = await this.state.lockedEntries(this.now());
    return [...locked].map(([k, e]) => lockoutOf(k, e)).sort((a, b) => a.until - b.until);
  }

  /** Lifts a lock (admin action), on every instance. Returns whether there was one. */
  async unlock(kind: LockoutKind, key: string): Promise<boolean> {
    const now = this.now();
    const e = await this.state.deleteThrottle(stateKey(kind, kind === 'user' ? normEmail(key) : key), now);
    return e !== null && e.lockedUntil > now;
  }

  private async count(kind: LockoutKind, key: string, threshold: number, now: number): Promise<Lockout | null> {
    const { lockoutWindowMs: window, lockoutDurationMs: duration } = this.settings;
    let caused = false;
    const e = await this.state.updateThrottle(stateKey(kind, key), now, (cur) => {
      const e = cur ?? { failures: [], lockedUntil: 0, lockedAfter: 0, expiresAt: 0 };
      e.failures = e.failures.filter((t) => t > now - window);
      e.failures.push(now);
      if (e.failures.length > threshold) e.failures.splice(0, e.failures.length - threshold);
      caused = e.failures.length >= threshold && e.lockedUntil <= now;
      if (caused) {
        // Counting starts afresh once the lock ends.
        e.lockedUntil = now + duration;
        e.lockedAfter = e.failures.length;
        e.failures = [];
      }
      e.expiresAt = Math.max(e.lockedUntil, now + window);
      return e;
    });
    return caused && e ? { key, kind, until: e.lockedUntil, failures: e.lockedAfter } : null;
  }
}

export function normEmail(email: string): string {
  return email.trim().toLowerCase();
}

// Builders for store records used by the conformance suite and the SQLite/writer tests.
import type { DecisionRecord, SessionUpsert } from '../../src/store/types.js';

/** 2026-11-20T09:00:00Z: every test time is T0 + something. */
export const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export function session(id: string, over: Partial<SessionUpsert> = {}): SessionUpsert {
  return {
    id,
    kind: 'session',
    userId: 'sub-ada',
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    idp: 'google',
    issuer: 'gatehouse',
    groups: ['staff'],
    amr: ['pwd', 'mfa'],
    claims: { sub: 'sub-ada', jti: id, iat: T0 / 1000, department: 'engineering', groups: over.groups ?? ['staff'] },
    network: {
      loginIp: '192.0.2.10',
      loginUserAgent: 'Mozilla/5.0 test',
      loginCountry: 'GB',
      lastIp: '192.0.2.10',
      lastUserAgent: 'Mozilla/5.0 test',
    },
    device: { certSubject: 'CN=ada-laptop', certFingerprint: 'AB:CD' },
    issuedAt: T0,
    expiresAt: T0 + 8 * HOUR,
    firstSeenAt: T0,
    lastSeenAt: T0,
    loginId: null,
    idpSid: 'op-sid-1',
    ...over,
  };
}

let seq = 0;

export function decision(over: Partial<DecisionRecord> = {}): DecisionRecord {
  seq++;
  return {
    requestId: `req-${seq}`,
    time: T0,
    app: 'wiki',
    sessionId: 's1',
    email: 'ada@example.com',
    method: 'GET',
    host: 'wiki.example.com',
    path: '/page',
    clientIp: '192.0.2.10',
    outcome: 'deny',
    policy: 'staff-only',
    reason: 'policy_deny',
    reasons: ['exclude[0] group contractors: in [contractors]'],
    configHash: 'abcdef0123456789',
    identityVersion: 0,
    ...over,
  };
}

export const emptyBatch = () => ({ sessions: [], activity: [], decisions: [] });

/**
 * Waits for an event, failing after `ms`. The timer is ref'd on purpose: the writer's own timers
 * are unref'd, so without it a test awaiting only the writer would let the process exit.
 */
export async function within<T extends unknown[]>(
  emitter: { once(event: string, fn: (...args: T) => void): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
      emitter.once(event, (...args: T) => resolve(args));
    });
  } finally {
    clearTimeout(timer);
  }
}

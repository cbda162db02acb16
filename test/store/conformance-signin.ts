// Conformance cases: sign-in state (handoff codes, marks, throttle entries). A shared store serves
// its own (PostgreSQL: tables); a store that has none gets the in-memory one the login module uses,
// so both pass the same cases — single use included, under concurrent callers.
import type { Test } from 'tap';
import { MemorySignInState } from '../../src/login/memory-state.js';
import type { SignInState, ThrottleEntry } from '../../src/store/types.js';
import { fresh, type OpenStore } from './conformance.js';

const T0 = 1_700_000_000_000;

async function stateOf(t: Test, open: OpenStore): Promise<SignInState> {
  const store = await fresh(t, open);
  return store.signIn ?? new MemorySignInState();
}

export function signInCases(t: Test, open: OpenStore): void {
  t.test('sign-in state: a value is taken once, by one of many concurrent takers', async (t) => {
    const s = await stateOf(t, open);
    await s.putOnce('handoff:a', 'sealed-a', T0 + 60_000);
    const takes = await Promise.all(Array.from({ length: 8 }, () => s.takeOnce('handoff:a', T0)));
    t.same(takes.filter((v) => v !== null), ['sealed-a'], 'exactly one taker got it');
    t.equal(await s.takeOnce('handoff:a', T0), null, 'gone');
    t.equal(await s.takeOnce('handoff:never', T0), null);
    await s.putOnce('handoff:b', 'sealed-b', T0 + 60_000);
    t.equal(await s.takeOnce('handoff:b', T0 + 60_000), null, 'expired: not handed out');
  });

  t.test('sign-in state: a mark only moves forward, once per value', async (t) => {
    const s = await stateOf(t, open);
    const wins = await Promise.all(Array.from({ length: 8 }, () => s.advance('flow:x', 1, T0 + 600_000, T0)));
    t.equal(wins.filter(Boolean).length, 1, 'one of concurrent finishers of one flow wins');
    t.ok(await s.advance('totp:local:a@x', 100, T0 + 90_000, T0));
    t.notOk(await s.advance('totp:local:a@x', 100, T0 + 90_000, T0), 'the same step again');
    t.notOk(await s.advance('totp:local:a@x', 99, T0 + 90_000, T0), 'an earlier step');
    t.ok(await s.advance('totp:local:a@x', 101, T0 + 120_000, T0), 'a later step');
    t.ok(await s.advance('totp:local:a@x', 50, T0 + 999_000, T0 + 120_000), 'an expired mark counts for nothing');
  });

  t.test('sign-in state: throttle entries update atomically, list and delete', async (t) => {
    const s = await stateOf(t, open);
    const add = (at: number) => (e: ThrottleEntry | null): ThrottleEntry => {
      const next = e ?? { failures: [], lockedUntil: 0, lockedAfter: 0, expiresAt: 0 };
      next.failures.push(at);
      next.expiresAt = at + 60_000;
      if (next.failures.length >= 5) Object.assign(next, { lockedUntil: at + 300_000, lockedAfter: next.failures.length, expiresAt: at + 300_000 });
      return next;
    };
    await Promise.all([1, 2, 3, 4, 5].map((i) => s.updateThrottle('throttle:user:a@x', T0, add(T0 + i))));
    const entries = await s.throttleEntries(['throttle:user:a@x', 'throttle:ip:10.0.0.1'], T0);
    t.equal(entries.size, 1);
    t.equal(entries.get('throttle:user:a@x')?.failures.length, 5, 'concurrent failures all counted');
    t.same([...(await s.lockedEntries(T0)).keys()], ['throttle:user:a@x'], 'listed while locked');
    t.same([...(await s.lockedEntries(T0 + 300_010)).keys()], [], 'not once the lock has ended');
    t.equal(await s.updateThrottle('throttle:ip:10.0.0.1', T0, () => null), null, 'null deletes');
    t.match(await s.deleteThrottle('throttle:user:a@x', T0), { lockedAfter: 5 });
    t.equal(await s.deleteThrottle('throttle:user:a@x', T0), null);
    t.equal((await s.throttleEntries(['throttle:user:a@x'], T0)).size, 0);
    await s.updateThrottle('throttle:user:b@x', T0, add(T0));
    t.equal((await s.throttleEntries(['throttle:user:b@x'], T0 + 60_000)).size, 0, 'expired entries are not read');
  });
}

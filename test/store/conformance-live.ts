// Conformance cases for identity refresh grants (store/live-types.ts RefreshStore): the same on
// SQLite and PostgreSQL.
import type { Test } from 'tap';
import { fresh, type OpenStore } from './conformance.js';
import { emptyBatch, HOUR, MIN, session, T0 } from './records.js';

export function refreshCases(t: Test, open: OpenStore): void {
  t.test('refresh: due grants of live sessions in use are leased once, settled, and stale ones listed', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [
        session('used', { lastSeenAt: T0 + 5 * MIN }),
        session('idle'),
        session('gone', { lastSeenAt: T0 + 5 * MIN }),
        session('later', { lastSeenAt: T0 + 5 * MIN }),
      ],
    });
    await store.revokeSession('gone', 'test', 'test', T0 + MIN);
    const grant = (sessionId: string, nextAt = T0 + 10 * MIN) => ({ sessionId, idp: 'corp', sealed: `sealed-${sessionId}`, nextAt, lastAttemptAt: T0, lastOkAt: T0, staleAt: T0 + HOUR });
    for (const id of ['used', 'idle', 'gone']) await store.refresh.put(grant(id));
    await store.refresh.put(grant('later', T0 + 30 * MIN));
    const now = T0 + 10 * MIN;
    t.same(await store.refresh.claim(now - 1, 10, MIN), [], 'nothing due yet');
    const [first, second] = await Promise.all([store.refresh.claim(now, 10, MIN), store.refresh.claim(now, 10, MIN)]);
    const claimed = [...(first ?? []), ...(second ?? [])];
    t.same(
      claimed.map((g) => g.sessionId),
      ['used'],
      'only the live session used since the last attempt, and only once',
    );
    t.match(claimed[0], { idp: 'corp', sealed: 'sealed-used', lastOkAt: T0, failingSince: null });
    t.same(await store.refresh.claim(now + 30_000, 10, MIN), [], 'leased: not claimed again');
    await store.refresh.remove('later');

    await store.refresh.settle('used', { ok: false, at: now, nextAt: now + MIN });
    t.same(await store.refresh.stale(now + MIN), [], 'failing but not past stale_at');
    const retry = await store.refresh.claim(now + MIN, 10, MIN);
    t.match(retry, [{ sessionId: 'used', failingSince: now }], 'a failing grant is retried even without new use');
    t.same(await store.refresh.stale(T0 + HOUR), ['used'], 'failing past stale_at: stale');

    await store.refresh.settle('used', { ok: true, at: T0 + HOUR, nextAt: T0 + 70 * MIN, sealed: 'rotated', staleAt: T0 + 2 * HOUR });
    t.same(await store.refresh.stale(T0 + HOUR), [], 'a success clears it');
    t.same(await store.refresh.claim(T0 + 70 * MIN, 10, MIN), [], 'not used since that refresh: not due');
    await store.writeBatch({ ...emptyBatch(), activity: [{ sessionId: 'used', app: 'wiki', count: 1, firstSeenAt: T0 + 65 * MIN, lastSeenAt: T0 + 65 * MIN, lastPath: '/' }] });
    t.match(await store.refresh.claim(T0 + 70 * MIN, 10, MIN), [{ sessionId: 'used', sealed: 'rotated', lastOkAt: T0 + HOUR, failingSince: null }]);

    t.equal(await store.refresh.purge(T0 + 3 * HOUR), 1, 'the revoked session’s grant goes');
    t.equal(await store.refresh.purge(T0 + 3 * HOUR), 0);
  });

  t.test('refresh: a batch of outcomes is settled at once (settleAll), each as settle would', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({ ...emptyBatch(), sessions: ['a', 'b', 'c'].map((id) => session(id, { lastSeenAt: T0 + 5 * MIN })) });
    for (const id of ['a', 'b', 'c']) await store.refresh.put({ sessionId: id, idp: 'corp', sealed: `sealed-${id}`, nextAt: T0 + 10 * MIN, lastAttemptAt: T0, lastOkAt: T0, staleAt: T0 + HOUR });
    const now = T0 + 10 * MIN;
    t.equal((await store.refresh.claim(now, 10, MIN)).length, 3);
    await store.refresh.settleAll([]);
    await store.refresh.settleAll([
      { sessionId: 'a', outcome: { ok: true, at: now, nextAt: now + 10 * MIN, sealed: 'rotated-a', staleAt: now + HOUR } },
      { sessionId: 'b', outcome: { ok: true, at: now, nextAt: now + 10 * MIN, staleAt: now + HOUR } },
      { sessionId: 'c', outcome: { ok: false, at: now, nextAt: now + MIN } },
    ]);
    // Used again after the refresh: a and b are due at their next time; c (failing) at its retry.
    await store.writeBatch({ ...emptyBatch(), activity: ['a', 'b'].map((id) => ({ sessionId: id, app: 'wiki', count: 1, firstSeenAt: now + MIN, lastSeenAt: now + MIN, lastPath: '/' })) });
    t.match(await store.refresh.claim(now + MIN, 10, MIN), [{ sessionId: 'c', sealed: 'sealed-c', failingSince: now }], 'the failure is written, its lease ended');
    const later = (await store.refresh.claim(now + 10 * MIN, 10, MIN)).sort((x, y) => x.sessionId.localeCompare(y.sessionId));
    t.match(later, [
      { sessionId: 'a', sealed: 'rotated-a', lastOkAt: now, failingSince: null },
      { sessionId: 'b', sealed: 'sealed-b', lastOkAt: now, failingSince: null },
    ], 'successes written: the rotated token kept, the old one where none came');
  });
}

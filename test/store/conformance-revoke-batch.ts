// Conformance case: revoking a set of sessions at once (Store.revokeSessions, what a SCIM
// deactivation or a back-channel logout does to a user's sessions): one transaction holding every
// revocation and its history entry; unknown ids skipped, an earlier revocation kept.
import type { Test } from 'tap';
import type { IdentityChange } from '../../src/store/types.js';
import { fresh, type OpenStore } from './conformance.js';
import { MIN, T0, emptyBatch, session } from './records.js';

export function revokeBatchCases(t: Test, open: OpenStore): void {
  t.test('revokeSessions revokes a user’s 100 sessions at once, with their history entries', async (t) => {
    const store = await fresh(t, open);
    const ids = Array.from({ length: 100 }, (_, i) => `u-${String(i).padStart(3, '0')}`);
    await store.writeBatch({ ...emptyBatch(), sessions: [...ids.map((id) => session(id)), session('other', { email: 'bob@example.com' })] });
    await store.revokeSession('u-007', 'admin', 'earlier', T0);
    const history = (id: string): IdentityChange => ({ email: 'ada@example.com', time: T0 + MIN, sessionId: id, change: { revoked: { reason: 'deactivated' } }, source: 'scim', version: null, eventId: 'scim-req-1' });
    const asked = [...ids, 'unknown', 'u-001'];
    const revoked = await store.revokeSessions(asked, 'scim', 'deactivated', T0 + MIN, [...asked.map(history), history('other')]);

    t.same([...revoked].sort(), ids.filter((id) => id !== 'u-007'), 'every live one once; unknown and already revoked skipped');
    t.match(await store.getSession('u-042'), { revokedAt: T0 + MIN, revokedBy: 'scim', revokeReason: 'deactivated' });
    t.match(await store.getSession('u-007'), { revokedAt: T0, revokedBy: 'admin', revokeReason: 'earlier' }, 'the first revocation is kept');
    t.equal((await store.getSession('other'))?.revokedAt, null, 'a history entry alone revokes nothing');
    t.same([...(await store.loadRevocations()).sessionIds].sort(), ids);

    t.same(await store.identities.sessionHistory('u-042'), [history('u-042')], 'the history entry is written with its revocation');
    t.same(await store.identities.sessionHistory('u-007'), [], 'no entry for a session this call did not revoke');
    t.same(await store.identities.sessionHistory('other'), [], 'nor for one it was not asked to revoke');
    const scimEntries = async () => (await store.identityHistory('ada@example.com', 1000)).filter((c) => c.source === 'scim').length;
    t.equal(await scimEntries(), 99);

    t.same(await store.revokeSessions(ids, 'scim', 'again', T0 + 2 * MIN, ids.map(history)), [], 'a second time: nothing left to revoke');
    t.same(await store.revokeSessions([], 'scim', 'nothing', T0), []);
    t.equal(await scimEntries(), 99, 'and nothing more recorded');
  });
}

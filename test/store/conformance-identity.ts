// Conformance cases for the live-identity part of the store (IdentityStore): the same on SQLite
// and PostgreSQL.
import type { Test } from 'tap';
import { fresh, type OpenStore } from './conformance.js';
import { decision, emptyBatch, HOUR, session, T0 } from './records.js';

export function identityCases(t: Test, open: OpenStore): void {
  t.test('identity: find selects live sessions by id, email, issuer+subject and provider sid', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [
        session('s1'),
        session('s2', { idpSid: 'op-sid-2', issuedAt: T0 + 1 }),
        session('t1', { kind: 'token', issuer: 'https://idp.example.com', idp: null, idpSid: null, issuedAt: T0 + 2 }),
        session('old', { expiresAt: T0 + HOUR }),
        session('rev'),
        session('bob', { email: 'bob@example.com', userId: 'sub-bob' }),
      ],
    });
    await store.revokeSession('rev', 'test', 'test', T0);
    const now = T0 + 2 * HOUR;
    const ids = async (sel: Parameters<Store['identities']['find']>[0]) => (await store.identities.find(sel, now)).map((s) => s.id);
    t.same(await ids({ id: 's1' }), ['s1']);
    t.same(await ids({ id: 'old' }), [], 'expired: not live');
    t.same(await ids({ id: 'rev' }), [], 'revoked: not live');
    t.same(await ids({ email: 'ADA@example.com' }), ['s1', 's2', 't1'], 'case-insensitive, oldest first');
    t.same(await ids({ userId: 'sub-ada', issuers: ['https://idp.example.com'], idps: [] }), ['t1']);
    t.same(await ids({ userId: 'sub-ada', issuers: [], idps: ['google'] }), ['s1', 's2']);
    t.same(await ids({ userId: 'sub-bob', issuers: ['gatehouse'], idps: [] }), ['bob']);
    t.same(await ids({ idp: 'google', sid: 'op-sid-2' }), ['s2']);
    t.same(await ids({ idp: 'other', sid: 'op-sid-2' }), []);
    t.equal((await store.getSession('s2'))?.idpSid, 'op-sid-2', 'the IdP session id is recorded');
  });

  t.test('identity: a version is written only on the expected one, with its history, and announced', async (t) => {
    const store = await fresh(t, open);
    // The snapshot lists sessions live now (the wall clock): these expire in an hour.
    const later = { expiresAt: Date.now() + HOUR };
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s1', later), session('s2', later)] });
    const change = { groups: { added: [], removed: ['staff'] } };
    const entry = (version: number) => ({ email: 'ada@example.com', time: T0 + version, sessionId: 's1', change, source: 'scim', version, eventId: `evt-${version}` });
    t.equal(await store.identities.write({ sessionId: 's1', expected: 0, version: 1, state: { version: 1, groups: [] }, change: entry(1) }), true);
    t.equal(await store.identities.write({ sessionId: 's1', expected: 0, version: 1, state: { version: 1, groups: ['x'] }, change: entry(1) }), false, 'a stale writer loses');
    t.equal(await store.identities.write({ sessionId: 'nope', expected: 0, version: 1, state: {}, change: entry(1) }), false, 'unknown session');
    const s1 = await store.getSession('s1');
    t.equal(s1?.identityVersion, 1);
    t.same(s1?.liveState, { version: 1, groups: [] });
    t.same(await store.identities.states(['s1', 's2', 'nope']), [{ sessionId: 's1', version: 1, state: { version: 1, groups: [] } }]);
    t.same((await store.loadRevocations()).identities, [{ sessionId: 's1', version: 1 }]);
    await store.identities.record({ email: 'ada@example.com', time: T0 + 5, sessionId: 's1', change: { revoked: { reason: 'idp_logout' } }, source: 'backchannel', version: null, eventId: 'jti-9' });
    const history = await store.identities.sessionHistory('s1');
    t.same(history, [
      { email: 'ada@example.com', time: T0 + 5, sessionId: 's1', change: { revoked: { reason: 'idp_logout' } }, source: 'backchannel', version: null, eventId: 'jti-9' },
      entry(1),
    ]);
    t.same((await store.identityHistory('ada@example.com', 100)).map((c) => c.source), ['backchannel', 'scim'], 'the user’s history shows them too');
  });

  t.test('identity: decisions keep the identity version they were made on', async (t) => {
    const store = await fresh(t, open);
    const d = [decision({ requestId: 'v-1', identityVersion: 3 }), decision({ requestId: 'v-2', identityVersion: null, sessionId: null })];
    await store.writeBatch({ ...emptyBatch(), decisions: d });
    t.same((await store.listDecisions({ limit: 10 })).items.map((x) => [x.requestId, x.identityVersion]).sort(), [
      ['v-1', 3],
      ['v-2', null],
    ]);
  });
}

type Store = Awaited<ReturnType<OpenStore>>;

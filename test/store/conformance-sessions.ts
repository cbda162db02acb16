// Conformance cases: writing sessions, activity and identity history; revocations.
import type { Test } from 'tap';
import { fresh, type OpenStore } from './conformance.js';
import { HOUR, MIN, T0, emptyBatch, session } from './records.js';

export function sessionCases(t: Test, open: OpenStore): void {
  t.test('a new session is inserted whole', async (t) => {
    const store = await fresh(t, open);
    const s = session('s1');
    await store.writeBatch({ ...emptyBatch(), sessions: [s] });
    t.same(await store.getSession('s1'), { ...s, revokedAt: null, revokedBy: null, revokeReason: null, identityVersion: 0, liveState: null });
    t.equal(await store.getSession('nope'), null);
    await store.writeBatch(emptyBatch());
  });

  t.test('a known session only gets its last-seen fields touched', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
    const network = { loginIp: '198.51.100.1', loginUserAgent: 'curl', loginCountry: 'FR', lastIp: '198.51.100.7', lastUserAgent: 'curl/8' };
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [session('s1', { name: 'Mallory', groups: ['admins'], claims: {}, network, lastSeenAt: T0 + 5 * MIN, firstSeenAt: T0 + 5 * MIN })],
    });
    const got = await store.getSession('s1');
    t.equal(got?.name, 'Ada Lovelace');
    t.same(got?.groups, ['staff']);
    t.equal(got?.firstSeenAt, T0);
    t.equal(got?.lastSeenAt, T0 + 5 * MIN);
    t.same(got?.network, { ...session('s1').network, lastIp: '198.51.100.7', lastUserAgent: 'curl/8' });
    // An older touch (a late batch) neither moves last-seen back nor changes the last address.
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s1', { lastSeenAt: T0 + MIN, network: { ...network, lastIp: '203.0.113.9' } })] });
    const again = await store.getSession('s1');
    t.equal(again?.lastSeenAt, T0 + 5 * MIN);
    t.equal(again?.network.lastIp, '198.51.100.7');
  });

  t.test('revocation: unknown id, first revocation kept, never overwritten by a touch', async (t) => {
    const store = await fresh(t, open);
    t.equal(await store.revokeSession('unknown', 'admin', 'test', T0), false);
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
    t.equal(await store.revokeSession('s1', 'admin-token-1', 'stolen laptop', T0 + MIN), true);
    t.equal(await store.revokeSession('s1', 'admin-token-2', 'again', T0 + 2 * MIN), true);
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s1', { lastSeenAt: T0 + 3 * MIN })] });
    const got = await store.getSession('s1');
    t.match(got, { revokedAt: T0 + MIN, revokedBy: 'admin-token-1', revokeReason: 'stolen laptop', lastSeenAt: T0 + 3 * MIN });
    t.same((await store.loadRevocations()).sessionIds, ['s1']);
  });

  t.test('revokeUser revokes every unrevoked session of that email', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [
        session('a1'),
        session('a2', { email: 'ADA@example.com' }),
        session('a3'),
        session('b1', { email: 'bob@example.com' }),
      ],
    });
    await store.revokeSession('a3', 'admin', 'earlier', T0);
    const ids = await store.revokeUser('Ada@Example.com', 'admin', 'log out everywhere', T0 + MIN);
    t.same([...ids].sort(), ['a1', 'a2']);
    t.equal((await store.getSession('a3'))?.revokeReason, 'earlier');
    t.equal((await store.getSession('b1'))?.revokedAt, null);
    t.same([...(await store.loadRevocations()).sessionIds].sort(), ['a1', 'a2', 'a3']);
    t.same(await store.revokeUser('nobody@example.com', 'admin', 'x', T0), []);
  });

  t.test('sessions of one sign-in (login id): listed and revoked together', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [
        session('l1', { loginId: 'login-1' }),
        session('l2', { loginId: 'login-1', email: 'ada@example.com', lastSeenAt: T0 + MIN }),
        session('l3', { loginId: 'login-1' }),
        session('o1', { loginId: 'login-2' }),
        session('n1'),
      ],
      activity: [{ sessionId: 'l2', app: 'wiki', count: 1, firstSeenAt: T0 + MIN, lastSeenAt: T0 + MIN, lastPath: '/' }],
    });
    t.equal((await store.getSession('l1'))?.loginId, 'login-1');
    t.equal((await store.getSession('n1'))?.loginId, null, 'sessions from before login ids have none');
    const listed = await store.listSessions({ loginId: 'login-1', limit: 10 });
    t.same(listed.items.map((s) => [s.id, s.apps]), [['l2', ['wiki']], ['l3', []], ['l1', []]], 'newest activity first, with their apps');
    await store.revokeSession('l3', 'admin', 'earlier', T0);
    const active = await store.listSessions({ loginId: 'login-1', active: true, now: T0 + 2 * MIN, limit: 10 });
    t.same(active.items.map((s) => s.id).sort(), ['l1', 'l2']);

    const ids = await store.revokeLogin('login-1', 'user', 'logout', T0 + 2 * MIN);
    t.same([...ids].sort(), ['l1', 'l2']);
    t.match(await store.getSession('l1'), { revokedAt: T0 + 2 * MIN, revokedBy: 'user', revokeReason: 'logout' });
    t.equal((await store.getSession('l3'))?.revokeReason, 'earlier', 'an earlier revocation is kept');
    t.equal((await store.getSession('o1'))?.revokedAt, null, 'another sign-in is untouched');
    t.equal((await store.getSession('n1'))?.revokedAt, null);
    t.same([...(await store.loadRevocations()).sessionIds].sort(), ['l1', 'l2', 'l3']);
    t.same(await store.revokeLogin('login-unknown', 'user', 'logout', T0), []);

    // A touch never sets or moves a session's login id.
    await store.writeBatch({ ...emptyBatch(), sessions: [session('n1', { loginId: 'login-1', lastSeenAt: T0 + 3 * MIN })] });
    t.equal((await store.getSession('n1'))?.loginId, null);
  });

  t.test('revokeApp cutoffs load with the revocations and only move forward', async (t) => {
    const store = await fresh(t, open);
    t.same(await store.loadRevocations(), { sessionIds: [], appCutoffs: {}, identities: [] });
    await store.revokeApp('wiki', T0 + HOUR);
    await store.revokeApp('grafana', T0);
    await store.revokeApp('wiki', T0);
    t.same((await store.loadRevocations()).appCutoffs, { wiki: T0 + HOUR, grafana: T0 });
    await store.revokeApp('wiki', T0 + 2 * HOUR);
    t.same((await store.loadRevocations()).appCutoffs, { wiki: T0 + 2 * HOUR, grafana: T0 });
  });

  t.test('session × app activity aggregates across batches', async (t) => {
    const store = await fresh(t, open);
    const act = (app: string, count: number, first: number, last: number, lastPath: string) => ({
      sessionId: 's1', app, count, firstSeenAt: first, lastSeenAt: last, lastPath,
    });
    await store.writeBatch({ sessions: [session('s1')], activity: [act('wiki', 3, T0, T0 + MIN, '/a')], decisions: [] });
    t.equal((await store.getSession('s1'))?.lastSeenAt, T0 + MIN, 'later activity in the session’s own batch moves it');
    // A new session's first request: session and activity at the same time; an older aggregate
    // in the same batch never moves last-seen back.
    await store.writeBatch({
      sessions: [session('s2', { firstSeenAt: T0 + MIN, lastSeenAt: T0 + MIN })],
      activity: [{ ...act('wiki', 1, T0 + MIN, T0 + MIN, '/n'), sessionId: 's2' }, { ...act('grafana', 1, T0, T0, '/o'), sessionId: 's2' }],
      decisions: [],
    });
    t.equal((await store.getSession('s2'))?.lastSeenAt, T0 + MIN);
    t.equal((await store.sessionActivity('s2')).length, 2);
    await store.writeBatch({ ...emptyBatch(), activity: [act('wiki', 2, T0 + 2 * MIN, T0 + 4 * MIN, '/b'), act('grafana', 1, T0 + MIN, T0 + MIN, '/d')] });
    // A late aggregate: earlier first-seen counts, but it is not the last path.
    await store.writeBatch({ ...emptyBatch(), activity: [act('wiki', 1, T0 - MIN, T0 + 3 * MIN, '/late')] });
    // Activity of a session the store never saw must not fail the batch.
    await store.writeBatch({ ...emptyBatch(), activity: [{ ...act('wiki', 1, T0, T0, '/x'), sessionId: 'ghost' }] });
    t.same(await store.sessionActivity('s1'), [
      act('wiki', 6, T0 - MIN, T0 + 4 * MIN, '/b'),
      act('grafana', 1, T0 + MIN, T0 + MIN, '/d'),
    ]);
    t.same(await store.sessionActivity('ghost'), []);
    t.equal((await store.getSession('s1'))?.lastSeenAt, T0 + 4 * MIN, 'activity moves the session last-seen');
  });

  t.test('identity history records group and claim changes between a user’s sessions', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
    // Same identity, new per-token claims only: no change.
    const s2claims = { ...session('s2').claims, iat: T0 / 1000 + 3600, exp: 1, nonce: 'n', auth_time: 5 };
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s2', { issuedAt: T0 + HOUR, claims: s2claims })] });
    t.same(await store.identityHistory('ada@example.com', 100), []);
    // New groups, changed department, groups claim mirrored in claims: one change.
    const day2 = T0 + 24 * HOUR;
    const s3 = session('s3', {
      issuedAt: day2,
      groups: ['staff', 'admins'],
      claims: { ...session('s3').claims, department: 'security', groups: ['staff', 'admins'] },
    });
    const s4 = session('s4', { email: 'bob@example.com', groups: ['x'] });
    await store.writeBatch({ ...emptyBatch(), sessions: [s3, s4] });
    // Another issuer's token for the same email is not compared with gateway sessions.
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [session('t1', { kind: 'token', issuer: 'https://idp.example.com', idp: null, groups: [], claims: {}, issuedAt: day2 + HOUR })],
    });
    // Back to a single group a day later.
    await store.writeBatch({ ...emptyBatch(), sessions: [session('s5', { issuedAt: day2 + 24 * HOUR, claims: { ...s3.claims, groups: ['admins'] }, groups: ['admins'] })] });
    t.same(await store.identityHistory('ADA@example.com', 100), [
      { email: 'ada@example.com', time: day2 + 24 * HOUR, sessionId: 's5', change: { groups: { added: [], removed: ['staff'] } }, source: 'login', version: null, eventId: null },
      {
        email: 'ada@example.com',
        time: day2,
        sessionId: 's3',
        change: { groups: { added: ['admins'], removed: [] }, claims: { changed: ['department'] } },
        source: 'login',
        version: null,
        eventId: null,
      },
    ]);
    t.same(await store.identityHistory('bob@example.com', 100), []);
  });

  t.test('userSessions lists a user’s sessions newest first', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [session('old', { issuedAt: T0 - HOUR }), session('new', { issuedAt: T0 + HOUR }), session('b', { email: 'bob@example.com' })],
    });
    t.same((await store.userSessions('Ada@example.com', 10)).map((s) => s.id), ['new', 'old']);
    t.same((await store.userSessions('ada@example.com', 1)).map((s) => s.id), ['new'], 'at most limit');
    t.same(await store.userSessions('nobody@example.com', 10), []);
  });

  t.test('listUsers counts active sessions per user', async (t) => {
    const store = await fresh(t, open);
    const now = T0 + HOUR;
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [
        session('a1', { lastSeenAt: T0 + 10 * MIN }),
        session('a2', { lastSeenAt: T0 + 20 * MIN, name: 'Ada L.' }),
        session('a3', { expiresAt: now - 1 }),
        session('a4'),
        session('b1', { email: 'bob@example.com', name: 'Bob', lastSeenAt: T0 + 30 * MIN }),
        session('c1', { email: 'carol@example.com', name: 'Carol', expiresAt: now - 1 }),
        session('svc', { kind: 'service', email: null, name: null, userId: 'ci-deploy' }),
      ],
    });
    await store.revokeSession('a4', 'admin', 'x', T0);
    const ada = { email: 'ada@example.com', name: 'Ada L.', activeSessions: 2, lastSeenAt: T0 + 20 * MIN };
    t.same(await store.listUsers({ now, limit: 50 }), {
      items: [ada, { email: 'bob@example.com', name: 'Bob', activeSessions: 1, lastSeenAt: T0 + 30 * MIN }, { email: 'carol@example.com', name: 'Carol', activeSessions: 0, lastSeenAt: T0 }],
      nextCursor: null,
    });
    t.same(await store.userSummary('ADA@example.com', now), ada);
    t.same(await store.userSummary('carol@example.com', now), { email: 'carol@example.com', name: 'Carol', activeSessions: 0, lastSeenAt: T0 });
    t.equal(await store.userSummary('nobody@example.com', now), null);
  });

  t.test('ping succeeds on a healthy store', async (t) => {
    const store = await fresh(t, open);
    await store.ping();
    t.pass('pinged');
  });
}

// Conformance cases: the admin API's lists (filters, cursor pagination), per-app views, purge.
import type { Test } from 'tap';
import type { AppActivity, DecisionRecord, Page, Store } from '../../src/store/types.js';
import { fresh, type OpenStore } from './conformance.js';
import { HOUR, MIN, T0, decision, emptyBatch, session } from './records.js';

const DAY = 24 * HOUR;

function act(sessionId: string, app: string, at: number, count = 1): AppActivity {
  return { sessionId, app, count, firstSeenAt: at, lastSeenAt: at, lastPath: `/${app}` };
}

async function allPages<T>(fetch: (cursor?: string) => Promise<Page<T>>): Promise<{ pages: T[][]; cursors: Array<string | null> }> {
  const pages: T[][] = [];
  const cursors: Array<string | null> = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    pages.push(page.items);
    cursors.push(page.nextCursor);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 20);
  return { pages, cursors };
}

export function queryCases(t: Test, open: OpenStore): void {
  t.test('listSessions filters by email, user, app and active, with app names', async (t) => {
    const store = await fresh(t, open);
    const now = T0 + HOUR;
    await store.writeBatch({
      sessions: [
        session('a1', { lastSeenAt: T0 + MIN }),
        session('a2', { lastSeenAt: T0 + 2 * MIN, email: 'Ada@Example.com' }),
        session('a3', { lastSeenAt: T0 + 3 * MIN, expiresAt: now - 1 }),
        session('b1', { lastSeenAt: T0 + 4 * MIN, email: 'bob@example.com', userId: 'sub-bob' }),
        session('svc', { lastSeenAt: T0 + 5 * MIN, kind: 'service', email: null, userId: 'ci-deploy', issuer: 'service_token' }),
      ],
      activity: [act('a1', 'wiki', T0), act('a1', 'grafana', T0), act('b1', 'wiki', T0), act('svc', 'grafana', T0)],
      decisions: [],
    });
    await store.revokeSession('a2', 'admin', 'x', T0);
    const ids = async (q: Partial<Parameters<Store['listSessions']>[0]>) => {
      const page = await store.listSessions({ limit: 50, now, ...q });
      t.equal(page.nextCursor, null);
      return page.items.map((s) => s.id);
    };
    const all = await store.listSessions({ limit: 50 });
    t.same(all.items.map((s) => [s.id, s.apps]), [['svc', ['grafana']], ['b1', ['wiki']], ['a3', []], ['a2', []], ['a1', ['grafana', 'wiki']]]);
    t.equal(all.items[3]?.revokedBy, 'admin');
    t.same(await ids({ email: 'ADA@example.com' }), ['a3', 'a2', 'a1']);
    t.same(await ids({ user: 'sub-bob' }), ['b1']);
    t.same(await ids({ app: 'wiki' }), ['b1', 'a1']);
    t.same(await ids({ active: true }), ['svc', 'b1', 'a1']);
    t.same(await ids({ active: false }), ['a3', 'a2']);
    t.same(await ids({ email: 'ada@example.com', active: true }), ['a1']);
    t.same(await ids({ app: 'grafana', active: true }), ['svc', 'a1']);
    t.same(await ids({ email: 'nobody@example.com' }), []);
  });

  t.test('listSessions pages with cursors: stable order, no gaps, no repeats', async (t) => {
    const store = await fresh(t, open);
    const seen = [1, 2, 2, 2, 3, 4, 4];
    await store.writeBatch({ ...emptyBatch(), sessions: seen.map((m, i) => session(`p${i}`, { lastSeenAt: T0 + m * MIN })) });
    const expected = seen
      .map((m, i) => ({ id: `p${i}`, at: T0 + m * MIN }))
      .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
      .map((s) => s.id);
    const { pages, cursors } = await allPages((cursor) => store.listSessions({ limit: 3, cursor }));
    t.same(pages.map((p) => p.length), [3, 3, 1]);
    t.same(pages.flat().map((s) => s.id), expected);
    t.equal(cursors.at(-1), null);
    const filtered = await allPages((cursor) => store.listSessions({ limit: 2, email: 'ada@example.com', cursor }));
    t.same(filtered.pages.flat().map((s) => s.id), expected);
    const exact = await allPages((cursor) => store.listSessions({ limit: 7, cursor }));
    t.same(exact.cursors, [null], 'a full last page has no next cursor');
    await t.rejects(store.listSessions({ limit: 3, cursor: 'not-a-cursor' }), { name: 'StoreQueryError', param: 'cursor' });
  });

  t.test('listDecisions filters and pages newest first', async (t) => {
    const store = await fresh(t, open);
    const d: DecisionRecord[] = [
      decision({ requestId: 'r-1', time: T0, sessionId: 's1' }),
      decision({ requestId: 'r-2', time: T0 + MIN, app: 'grafana', email: 'Ada@Example.com', outcome: 'unauthenticated', sessionId: null, policy: null, reason: 'expired', reasons: [] }),
      decision({ requestId: 'r-3', time: T0 + 2 * MIN, email: 'bob@example.com', sessionId: 's2' }),
      decision({ requestId: 'r-4', time: T0 + 2 * MIN, outcome: 'allow', sessionId: 's1', reason: 'policy_allow' }),
      decision({ requestId: 'r-5', time: T0 + 3 * MIN, email: null, sessionId: null, outcome: 'unauthenticated', reason: 'missing' }),
    ];
    await store.writeBatch({ ...emptyBatch(), decisions: d });
    const rid = async (q: Partial<Parameters<Store['listDecisions']>[0]>) =>
      (await store.listDecisions({ limit: 50, ...q })).items.map((x) => x.requestId);
    const one = await store.listDecisions({ limit: 10, requestId: 'r-2' });
    t.same(one, { items: [d[1]], nextCursor: null }, 'every field round-trips');
    t.same(await rid({}), ['r-5', 'r-4', 'r-3', 'r-2', 'r-1']);
    t.same(await rid({ email: 'ADA@EXAMPLE.COM' }), ['r-4', 'r-2', 'r-1']);
    t.same(await rid({ app: 'wiki' }), ['r-5', 'r-4', 'r-3', 'r-1']);
    t.same(await rid({ outcome: 'deny' }), ['r-3', 'r-1']);
    t.same(await rid({ since: T0 + 2 * MIN }), ['r-5', 'r-4', 'r-3']);
    t.same(await rid({ sessionId: 's1' }), ['r-4', 'r-1']);
    t.same(await rid({ app: 'wiki', outcome: 'deny', email: 'bob@example.com' }), ['r-3']);
    t.same(await rid({ requestId: 'r-404' }), []);
    const { pages, cursors } = await allPages((cursor) => store.listDecisions({ limit: 2, cursor }));
    t.same(pages.map((p) => p.map((x) => x.requestId)), [['r-5', 'r-4'], ['r-3', 'r-2'], ['r-1']]);
    t.equal(cursors.at(-1), null);
    const wiki = await allPages((cursor) => store.listDecisions({ limit: 1, app: 'wiki', cursor }));
    t.same(wiki.pages.flat().map((x) => x.requestId), ['r-5', 'r-4', 'r-3', 'r-1']);
    await t.rejects(store.listDecisions({ limit: 2, cursor: 'bm9wZQ' }), { name: 'StoreQueryError', param: 'cursor' });
    // A decisions cursor is not a sessions cursor.
    await t.rejects(store.listSessions({ limit: 2, cursor: cursors[0] ?? '' }), { name: 'StoreQueryError', param: 'cursor' });
  });

  t.test('error pages are decisions too: not_found without an app, error with its cause', async (t) => {
    const store = await fresh(t, open);
    const d: DecisionRecord[] = [
      decision({ requestId: 'e-1', time: T0, app: '', outcome: 'not_found', policy: null, sessionId: null, email: null, reason: 'route_not_found', reasons: ['no app serves nope.example/x'] }),
      decision({ requestId: 'e-2', time: T0 + MIN, outcome: 'error', policy: null, reason: 'upstream_unavailable', reasons: ['upstream http://127.0.0.1:9: econnrefused'] }),
    ];
    await store.writeBatch({ ...emptyBatch(), decisions: d });
    t.same((await store.listDecisions({ limit: 10, requestId: 'e-1' })).items, [d[0]], 'an empty app round-trips');
    t.same((await store.listDecisions({ limit: 10, requestId: 'e-2' })).items, [d[1]]);
    t.same((await store.listDecisions({ limit: 10, outcome: 'not_found' })).items.map((x) => x.requestId), ['e-1']);
    t.same((await store.listDecisions({ limit: 10, outcome: 'error', app: 'wiki' })).items.map((x) => x.requestId), ['e-2']);
  });

  t.test('appSessions: who can use the app now, with their activity', async (t) => {
    const store = await fresh(t, open);
    const activeAt = T0 + HOUR;
    await store.writeBatch({
      sessions: [
        session('a1', { issuedAt: T0 + 40 * MIN }),
        session('a2', { issuedAt: T0 + 40 * MIN }),
        session('a3', { issuedAt: T0 + 40 * MIN, expiresAt: activeAt - 1 }),
        session('b1', { email: 'bob@example.com' }),
        session('b2', { email: 'bob@example.com', issuedAt: T0 + 40 * MIN }),
        session('c1', { email: 'carol@example.com' }),
      ],
      activity: [
        act('a1', 'wiki', T0 + 41 * MIN, 4),
        act('a2', 'wiki', T0 + 42 * MIN),
        act('a3', 'wiki', T0 + 43 * MIN),
        act('b1', 'wiki', T0 + 5 * MIN),
        act('b2', 'wiki', T0 + 50 * MIN),
        act('c1', 'grafana', T0 + 50 * MIN),
      ],
      decisions: [],
    });
    await store.revokeSession('a2', 'admin', 'x', T0 + 45 * MIN);
    await store.revokeApp('wiki', T0 + 30 * MIN);
    const got = (await store.appSessions({ app: 'wiki', activeAt, limit: 50 })).items;
    t.same(got.map((s) => s.id), ['b2', 'a1']);
    t.same(got[1]?.activity, act('a1', 'wiki', T0 + 41 * MIN, 4));
    t.equal(got[0]?.email, 'bob@example.com');
    t.same(await store.appSessions({ app: 'nothing', activeAt, limit: 50 }), { items: [], nextCursor: null });
  });

  t.test('appIdentities: the latest identity of everyone who used the app in the window', async (t) => {
    const store = await fresh(t, open);
    const svc = { kind: 'service' as const, email: null, name: null, userId: 'ci-deploy', issuer: 'service_token', groups: [] };
    await store.writeBatch({
      sessions: [
        session('ada-old', { issuedAt: T0 }),
        session('ada-new', { issuedAt: T0 + 2 * HOUR, groups: ['staff', 'admins'] }),
        session('bob', { email: 'bob@example.com', userId: 'sub-bob' }),
        session('svc1', { ...svc, issuedAt: T0 }),
        session('svc2', { ...svc, issuedAt: T0 + HOUR }),
        session('carol', { email: 'carol@example.com', userId: 'sub-carol' }),
      ],
      activity: [
        act('ada-old', 'wiki', T0 + HOUR),
        act('ada-new', 'grafana', T0 + 3 * HOUR),
        act('bob', 'wiki', T0 - 2 * DAY),
        act('svc1', 'wiki', T0 + 10 * MIN),
        act('svc2', 'wiki', T0 + 2 * HOUR),
        act('carol', 'grafana', T0 + HOUR),
      ],
      decisions: [],
    });
    const got = await store.appIdentities('wiki', T0, 100);
    t.same(got.map((s) => s.id).sort(), ['ada-new', 'svc2']);
    t.same(got.find((s) => s.id === 'ada-new')?.groups, ['staff', 'admins']);
    t.same((await store.appIdentities('wiki', T0 - 3 * DAY, 100)).map((s) => s.id).sort(), ['ada-new', 'bob', 'svc2']);
    t.same(await store.appIdentities('wiki', T0 + DAY, 100), []);
    t.same((await store.appIdentities('wiki', T0 - 3 * DAY, 2)).map((s) => s.id), ['ada-new', 'svc2'], 'at most limit, most recently seen first');
  });

  t.test('purge deletes old decisions and long-expired sessions with their activity', async (t) => {
    const store = await fresh(t, open);
    const old = Array.from({ length: 4500 }, (_, i) => decision({ time: T0 - 10 * DAY + i }));
    const recent = [decision({ requestId: 'keep-1' }), decision({ requestId: 'keep-2', time: T0 - 7 * DAY })];
    await store.writeBatch({
      sessions: [
        session('gone', { expiresAt: T0 - 8 * DAY }),
        session('gone-revoked', { expiresAt: T0 - 9 * DAY }),
        session('expired-recently', { expiresAt: T0 - DAY }),
        session('live'),
      ],
      activity: [act('gone', 'wiki', T0 - 9 * DAY), act('live', 'wiki', T0)],
      decisions: [...old, ...recent],
    });
    await store.revokeSession('gone-revoked', 'admin', 'x', T0 - 9 * DAY);
    t.same(await store.purge(T0 - 7 * DAY), { decisions: 4500, sessions: 2 });
    t.same((await store.listDecisions({ limit: 10 })).items.map((d) => d.requestId), ['keep-1', 'keep-2']);
    t.equal(await store.getSession('gone'), null);
    t.same(await store.sessionActivity('gone'), []);
    t.same((await store.loadRevocations()).sessionIds, []);
    t.same((await store.listSessions({ limit: 10 })).items.map((s) => s.id).sort(), ['expired-recently', 'live']);
    t.equal((await store.sessionActivity('live')).length, 1);
    t.same(await store.purge(T0 - 7 * DAY), { decisions: 0, sessions: 0 });
  });
}

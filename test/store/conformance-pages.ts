// Conformance cases: every admin list pages with an opaque cursor. Walking the cursor returns each
// item exactly once, in order; a page never holds more than `limit`; filtered lists stay bounded.
import type { Test } from 'tap';
import { SCAN_SLACK } from '../../src/store/cursor.js';
import type { AppActivity, Page, SessionUpsert } from '../../src/store/types.js';
import { fresh, type OpenStore } from './conformance.js';
import { HOUR, MIN, T0, emptyBatch, session } from './records.js';

/** Every page until the cursor runs out (at most `max` pages), checking each page's size. */
async function walk<T>(t: Test, limit: number, fetch: (cursor?: string) => Promise<Page<T>>, max = 200): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetch(cursor);
    pages++;
    if (page.items.length > limit) t.fail(`page ${pages} has ${page.items.length} items (limit ${limit})`);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages < max);
  t.equal(cursor, undefined, 'the walk ends with a null cursor');
  return { items, pages };
}

const act = (sessionId: string, app: string, at: number): AppActivity => ({ sessionId, app, count: 1, firstSeenAt: at, lastSeenAt: at, lastPath: '/' });

export function pageCases(t: Test, open: OpenStore): void {
  t.test('appSessions: walking the cursor returns every usable session once, newest activity first', async (t) => {
    const store = await fresh(t, open);
    const activeAt = T0 + HOUR;
    // 23 sessions, activity times with ties (i % 5), three unusable (revoked, expired, other app).
    const sessions: SessionUpsert[] = Array.from({ length: 23 }, (_, i) => session(`s${String(i).padStart(2, '0')}`, { email: `u${i}@example.com` }));
    sessions.push(session('expired', { expiresAt: activeAt - 1 }), session('other-app'));
    const activity = sessions.map((s, i) => act(s.id, s.id === 'other-app' ? 'grafana' : 'wiki', T0 + (i % 5) * MIN));
    await store.writeBatch({ sessions, activity, decisions: [] });
    await store.revokeSession('s07', 'admin', 'x', T0);
    const expected = activity
      .filter((a) => a.app === 'wiki' && a.sessionId !== 'expired' && a.sessionId !== 's07')
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt || (a.sessionId < b.sessionId ? 1 : -1))
      .map((a) => a.sessionId);
    for (const limit of [1, 4, 21, 22, 50]) {
      const { items } = await walk(t, limit, (cursor) => store.appSessions({ app: 'wiki', activeAt, limit, ...(cursor ? { cursor } : {}) }));
      t.same(items.map((s) => s.id), expected, `limit ${limit}: each once, in order`);
    }
    const one = await store.appSessions({ app: 'wiki', activeAt, limit: 1 });
    t.equal(one.items[0]?.activity.app, 'wiki');
    await t.rejects(store.appSessions({ app: 'wiki', activeAt, limit: 2, cursor: 'bm9wZQ' }), { name: 'StoreQueryError', param: 'cursor' });
  });

  t.test('appSessions stays bounded over many unusable sessions: short pages, every usable one once', async (t) => {
    const store = await fresh(t, open);
    const activeAt = T0 + HOUR;
    // More expired sessions with newer activity than the 3 usable ones than a page reads (limit +
    // SCAN_SLACK rows): the walk passes through an empty page and a short one with a cursor.
    const expired = Array.from({ length: SCAN_SLACK + 100 }, (_, i) => session(`x${String(i).padStart(4, '0')}`, { expiresAt: activeAt - 1 }));
    const usable = ['u1', 'u2', 'u3'].map((id) => session(id));
    await store.writeBatch({
      sessions: [...expired, ...usable],
      activity: [...expired.map((s, i) => act(s.id, 'wiki', T0 + 10 * MIN + i)), ...usable.map((s, i) => act(s.id, 'wiki', T0 + i))],
      decisions: [],
    });
    const { items, pages } = await walk(t, 2, (cursor) => store.appSessions({ app: 'wiki', activeAt, limit: 2, ...(cursor ? { cursor } : {}) }));
    t.same(items.map((s) => s.id), ['u3', 'u2', 'u1']);
    t.ok(pages > 2, `the rows were read over several pages (${pages})`);
  });

  t.test('listUsers: walking the cursor returns every user once, in email order', async (t) => {
    const store = await fresh(t, open);
    const now = T0 + HOUR;
    const emails = Array.from({ length: 17 }, (_, i) => `user${String((i * 7) % 17).padStart(2, '0')}@example.com`);
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [
        ...emails.map((email, i) => session(`s${i}`, { email, lastSeenAt: T0 + i * MIN })),
        // Same user, other case: one user.
        session('s-upper', { email: 'USER03@example.com', lastSeenAt: T0 + 30 * MIN }),
        session('svc', { kind: 'service', email: null, name: null, userId: 'ci' }),
      ],
    });
    const expected = [...emails].sort();
    for (const limit of [1, 5, 16, 17, 100]) {
      const { items } = await walk(t, limit, (cursor) => store.listUsers({ now, limit, ...(cursor ? { cursor } : {}) }));
      t.same(items.map((u) => u.email.toLowerCase()), expected, `limit ${limit}: each once, in order`);
    }
    const all = await store.listUsers({ now, limit: 100 });
    t.same(all.items.find((u) => u.email.toLowerCase() === 'user03@example.com'), { email: 'USER03@example.com', name: 'Ada Lovelace', activeSessions: 2, lastSeenAt: T0 + 30 * MIN });
    await t.rejects(store.listUsers({ now, limit: 2, cursor: 'bm9wZQ' }), { name: 'StoreQueryError', param: 'cursor' });
  });

  t.test('a user’s history is bounded: the newest `limit` changes', async (t) => {
    const store = await fresh(t, open);
    await store.writeBatch({
      ...emptyBatch(),
      sessions: Array.from({ length: 6 }, (_, i) => session(`h${i}`, { issuedAt: T0 + i * MIN, groups: i % 2 ? ['staff'] : ['staff', 'admins'] })),
    });
    const all = await store.identityHistory('ada@example.com', 100);
    t.equal(all.length, 5);
    t.same(await store.identityHistory('ada@example.com', 2), all.slice(0, 2));
  });
}

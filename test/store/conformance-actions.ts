// Conformance cases for the admin actions audit (store/action-types.ts) and the session list's
// filters and totals the console uses (idp, group, country, device, since; countSessions): the same
// on SQLite and PostgreSQL.
import type { Test } from 'tap';
import type { AdminActionInput } from '../../src/store/action-types.js';
import type { SessionCountQuery } from '../../src/store/types.js';
import { fresh, type OpenStore } from './conformance.js';
import { HOUR, MIN, T0, emptyBatch, session } from './records.js';

function action(over: Partial<AdminActionInput> = {}): AdminActionInput {
  return { time: T0, actor: 'admin:ops', action: 'session.revoke', target: 's1', reason: 'lost laptop', requestId: 'req-1', via: 'api', detail: null, ...over };
}

export function actionCases(t: Test, open: OpenStore): void {
  t.test('admin actions: recorded whole, listed newest first, filtered, paged', async (t) => {
    const store = await fresh(t, open);
    await store.actions.record(action({ detail: { revoked: 2, nested: { ok: true } }, via: 'console', actor: 'console:sam@example.com' }));
    await store.actions.record(action({ time: T0 + MIN, action: 'user.logout', target: 'ada@example.com', requestId: 'req-2' }));
    await store.actions.record(action({ time: T0 + MIN, action: 'app.revoke', target: 'wiki', reason: null, requestId: 'req-3' }));
    await store.actions.record(action({ time: T0 + 2 * MIN, action: 'lockout.lift', target: 'ip:192.0.2.1', requestId: 'req-4', actor: 'admin:helpdesk' }));
    const all = await store.actions.list({ limit: 10 });
    t.same(all.items.map((a) => a.requestId), ['req-4', 'req-3', 'req-2', 'req-1'], 'newest first; same time: last recorded first');
    t.equal(all.nextCursor, null);
    const first = all.items[3];
    t.match(first, { time: T0, actor: 'console:sam@example.com', action: 'session.revoke', target: 's1', reason: 'lost laptop', via: 'console', detail: { revoked: 2, nested: { ok: true } } });
    t.type(first?.id, 'number');
    t.equal(all.items[1]?.reason, null, 'no reason stays null');
    t.same((await store.actions.list({ limit: 10, actor: 'admin:helpdesk' })).items.map((a) => a.requestId), ['req-4']);
    t.same((await store.actions.list({ limit: 10, action: 'user.logout' })).items.map((a) => a.requestId), ['req-2']);
    t.same((await store.actions.list({ limit: 10, target: 'wiki' })).items.map((a) => a.requestId), ['req-3']);
    t.same((await store.actions.list({ limit: 10, actor: 'admin:ops', action: 'app.revoke' })).items.map((a) => a.requestId), ['req-3'], 'filters combine');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.actions.list({ limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((a) => a.requestId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && seen.length < 10);
    t.same(seen, ['req-4', 'req-3', 'req-2', 'req-1'], 'pages of one: each action exactly once, in order');
    await t.rejects(store.actions.list({ limit: 1, cursor: 'nonsense' }), { name: 'StoreQueryError', param: 'cursor' });
  });

  t.test('sessions: idp, group, country, device and since filters; counts match the pages', async (t) => {
    const store = await fresh(t, open);
    const now = T0 + HOUR;
    await store.writeBatch({
      ...emptyBatch(),
      sessions: [
        session('g1', { lastSeenAt: T0 + MIN, idp: 'google', groups: ['staff', 'sre'] }),
        session('g2', { lastSeenAt: T0 + 2 * MIN, idp: 'google', groups: ['staff'], network: { loginIp: '198.51.100.1', loginUserAgent: null, loginCountry: 'DE', lastIp: null, lastUserAgent: null } }),
        session('o1', { lastSeenAt: T0 + 3 * MIN, idp: 'okta', groups: ['contractors'] }),
        session('o2', { lastSeenAt: T0 + 4 * MIN, idp: 'okta', groups: ['sre-oncall'], expiresAt: now - 1 }),
        session('n1', { lastSeenAt: T0 + 5 * MIN, idp: null, groups: [], network: { loginIp: null, loginUserAgent: null, loginCountry: null, lastIp: null, lastUserAgent: null } }),
      ],
    });
    await store.devices.bind('g1', 'dev-1', T0);
    await store.devices.bind('o1', 'dev-2', T0);
    const ids = async (q: SessionCountQuery) => (await store.listSessions({ ...q, limit: 50 })).items.map((s) => s.id);
    const check = async (name: string, q: SessionCountQuery, expected: string[]) => {
      t.same(await ids(q), expected, name);
      t.equal(await store.countSessions(q, 100), expected.length, `${name}: the count matches`);
    };
    await check('idp', { idp: 'okta' }, ['o2', 'o1']);
    await check('group: exact, not a substring', { group: 'sre' }, ['g1']);
    await check('country, case-insensitive', { country: 'de' }, ['g2']);
    await check('country GB', { country: 'GB' }, ['o2', 'o1', 'g1']);
    await check('device id', { device: 'dev-1' }, ['g1']);
    await check('no enrolled device', { device: 'none' }, ['n1', 'o2', 'g2']);
    await check('since', { since: T0 + 3 * MIN }, ['n1', 'o2', 'o1']);
    await check('combined with active', { idp: 'okta', active: true, now }, ['o1']);
    await check('no filter', {}, ['n1', 'o2', 'o1', 'g2', 'g1']);
    await check('nothing matches', { group: 'nobody' }, []);
    t.equal(await store.countSessions({}, 2), 3, 'counted up to max + 1');
    t.equal(await store.countSessions({ app: 'none-such' }, 2), 0, 'an app nobody used');
    const paged = await store.listSessions({ group: 'staff', limit: 1 });
    t.same(paged.items.map((s) => s.id), ['g2']);
    const rest = await store.listSessions({ group: 'staff', limit: 1, cursor: paged.nextCursor as string });
    t.same(rest.items.map((s) => s.id), ['g1'], 'a filtered list pages by cursor');
  });
}

// The PostgreSQL store's decision insert: every row of a batch travels in one JSON parameter
// (json_to_recordset). Text that JSON escapes, or that PostgreSQL refuses, must come back as the
// array path stored it, in batch order.
import t from 'tap';
import { openPostgresStore } from '../../../src/store/postgres/store.js';
import { pgUrl, testSchema } from '../../helpers/pg.js';
import { needsPostgres } from '../../helpers/machine.js';
import { T0, decision, emptyBatch } from '../records.js';

if (await needsPostgres(t, 'the PostgreSQL decision-insert tests')) {
  t.test('decisions keep their order and their text through the JSON parameter', async (t) => {
    const store = await openPostgresStore(pgUrl({ schema: testSchema(t) }));
    t.teardown(() => store.close());
    const odd = [
      decision({ requestId: 'q-0', time: T0 + 0.7, path: '/lone\ud800x', email: 'nul\0@example.com', reasons: ['lone \udc00', 'r\0'] }),
      decision({ requestId: 'q-1', time: T0, path: '/"quoted"\\back\\slash\n\ttab', policy: null, sessionId: null, email: null }),
      decision({ requestId: 'q-2', time: T0, path: '/\\u0000 stays text', host: 'ünïcode.example', reasons: [] }),
      decision({ requestId: 'q-3', time: T0, path: '/😀', outcome: 'allow', reason: 'policy_allow' }),
    ];
    const many = Array.from({ length: 600 }, (_, i) => decision({ requestId: `m-${i}`, time: T0 + 1 + (i % 7), path: `/p/${i}` }));
    await store.writeBatch({ ...emptyBatch(), decisions: [...odd, ...many] });

    const byId = async (requestId: string) => (await store.listDecisions({ limit: 1, requestId })).items[0];
    t.match(await byId('q-0'), { time: T0, path: '/lone\uFFFDx', email: 'nul\uFFFD@example.com', reasons: ['lone \uFFFD', 'r\uFFFD'] });
    t.match(await byId('q-1'), { path: '/"quoted"\\back\\slash\n\ttab', policy: null, sessionId: null, email: null });
    t.match(await byId('q-2'), { path: '/\\u0000 stays text', host: 'ünïcode.example', reasons: [] });
    t.same(await byId('q-3'), odd[3]);

    // Newest first; equal times come back newest id first, so batch order is the id order.
    const all = [];
    for (let cursor: string | undefined, page; (page = await store.listDecisions({ limit: 500, cursor })); ) {
      all.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    t.equal(all.length, 604);
    const atT0 = all.filter((d) => d.time === T0).map((d) => d.requestId);
    t.same(atT0, ['q-3', 'q-2', 'q-1', 'q-0']);
    const at1 = all.filter((d) => d.time === T0 + 1).map((d) => d.requestId);
    t.same(at1, many.filter((d) => d.time === T0 + 1).map((d) => d.requestId).reverse());
  });
}

import t from 'tap';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import { startRetention } from '../../src/audit/retention.js';
import type { Store } from '../../src/store/types.js';
import { HOUR, T0, decision, session } from './records.js';

const DAY = 24 * HOUR;

t.test('openStore picks the configured store', async (t) => {
  const file = join(t.testdir(), 'data', 'gatehouse.db');
  const store = await openStore({ sqlite: file, queueLimit: 1000 }, silentLogger);
  t.teardown(() => store.close());
  t.equal(store.kind, 'sqlite');
  await store.ping();
  // store.postgres loads the PostgreSQL store (test/store/postgres.test.ts); unreachable, it says where.
  await t.rejects(openStore({ postgres: 'postgres://x@127.0.0.1:1/db', queueLimit: 1000 }, silentLogger), {
    message: /cannot open PostgreSQL store postgres:\/\/x@127\.0\.0\.1:1\/db: .*ECONNREFUSED/,
  });
  await t.rejects(openStore({ queueLimit: 1000 }, silentLogger), { message: /no store configured/ });
});

t.test('retention purges in the background and on demand', async (t) => {
  const store = await openStore({ sqlite: join(t.testdir(), 'gatehouse.db'), queueLimit: 1000 }, silentLogger);
  t.teardown(() => store.close());
  await store.writeBatch({
    sessions: [session('old', { expiresAt: T0 - 8 * DAY }), session('live')],
    activity: [],
    decisions: [decision({ requestId: 'old', time: T0 - 8 * DAY }), decision({ requestId: 'new', time: T0 })],
  });
  let retention = 7 * DAY;
  const handle = startRetention(store, () => retention, silentLogger, { initialDelayMs: 1, intervalMs: 20, now: () => T0 + 1 });
  t.teardown(() => handle.stop());
  const deadline = Date.now() + 2000;
  while ((await store.getSession('old')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.equal(await store.getSession('old'), null, 'the first run comes shortly after start');
  t.same((await store.listDecisions({ limit: 10 })).items.map((d) => d.requestId), ['new']);
  retention = 0;
  const [a, b] = [handle.runOnce(), handle.runOnce()];
  t.equal(a, b, 'runs never overlap');
  t.same(await a, { decisions: 1, sessions: 0 });
  handle.stop();
  t.equal(await handle.runOnce(), null, 'stopped');
});

t.test('a failing purge is logged and retried later, not thrown', async (t) => {
  let calls = 0;
  const broken = {
    purge: async () => {
      calls++;
      throw new Error('disk on fire');
    },
  } as unknown as Store;
  const handle = startRetention(broken, DAY, silentLogger, { initialDelayMs: 60_000 });
  t.teardown(() => handle.stop());
  t.equal(await handle.runOnce(), null);
  t.equal(calls, 1);
});

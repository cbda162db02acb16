// The admin read worker: the same answers as the store's own reads, from a worker thread with a
// read-only connection; a bad cursor is still a StoreQueryError; it sees each commit at once.
import t from 'tap';
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/store/sqlite/store.js';
import { SqliteReadWorker } from '../../../src/store/sqlite/read-worker.js';
import { HOUR, MIN, T0, decision, session } from '../records.js';

t.test('the worker answers every admin read as the store does', async (t) => {
  const file = join(t.testdir(), 'gatehouse.db');
  const store = await openSqliteStore(file);
  t.teardown(() => store.close());
  const worker = new SqliteReadWorker(file);
  t.teardown(() => worker.close());
  const sessions = Array.from({ length: 12 }, (_, i) => session(`s${i}`, { email: `u${i % 4}@example.com`, lastSeenAt: T0 + i * MIN, issuedAt: T0 + i * MIN, groups: i < 6 ? ['staff'] : ['admins'] }));
  await store.writeBatch({
    sessions,
    activity: sessions.map((s, i) => ({ sessionId: s.id, app: 'wiki', count: i + 1, firstSeenAt: T0, lastSeenAt: T0 + i * MIN, lastPath: '/' })),
    decisions: [decision({ requestId: 'r1', sessionId: 's1' }), decision({ requestId: 'r2', sessionId: 's1', time: T0 + MIN })],
  });
  await store.revokeSession('s3', 'admin', 'x', T0);
  const now = T0 + HOUR;
  const calls: Array<[string, (r: typeof store.reader | SqliteReadWorker) => Promise<unknown>]> = [
    ['getSession', (r) => r.getSession('s1')],
    ['listSessions', (r) => r.listSessions({ limit: 5, now, active: true })],
    ['sessionActivity', (r) => r.sessionActivity('s1')],
    ['appSessions', (r) => r.appSessions({ app: 'wiki', activeAt: now, limit: 5 })],
    ['listUsers', (r) => r.listUsers({ now, limit: 3 })],
    ['userSummary', (r) => r.userSummary('u1@example.com', now)],
    ['userSessions', (r) => r.userSessions('u1@example.com', 2)],
    ['identityHistory', (r) => r.identityHistory('u1@example.com', 10)],
    ['listDecisions', (r) => r.listDecisions({ limit: 1, sessionId: 's1' })],
    ['appIdentities', (r) => r.appIdentities('wiki', T0, 10)],
    ['sessionHistory', (r) => r.identities.sessionHistory('s5')],
  ];
  for (const [name, call] of calls) t.same(await call(worker), await call(store.reader), name);
  t.ok(((await worker.identityHistory('u1@example.com', 10)) as unknown[]).length > 0, 'a non-trivial history crossed the thread');
  await t.rejects(worker.listUsers({ now, limit: 2, cursor: 'bm9wZQ' }), { name: 'StoreQueryError', param: 'cursor' });
  // A commit on the store's connection is visible to the worker's next read.
  await store.writeBatch({ sessions: [session('late', { email: 'late@example.com' })], activity: [], decisions: [] });
  t.equal((await worker.getSession('late'))?.id, 'late');
  await worker.close();
  await t.rejects(worker.getSession('s1'), /closed/);
});

t.test('a store failure in the worker is an error, and the worker starts again for the next read', async (t) => {
  const worker = new SqliteReadWorker(join(t.testdir(), 'no-such-dir', 'missing.db'));
  t.teardown(() => worker.close());
  for (const attempt of [1, 2]) {
    const err = await worker.getSession('x').then(
      () => null,
      (e: unknown) => e,
    );
    t.match(String((err as Error | null)?.message), /directory does not exist|unable to open|stopped/i, `attempt ${attempt} fails with the cause`);
  }
});

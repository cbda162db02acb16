// The SQLite store's decision path: multi-row INSERT chunks, the reused parameter arrays, and the
// append-friendly request id index (migration 2) — its query plans and the upgrade from schema 1.
import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import { openDatabase } from '../../../src/store/sqlite/db.js';
import { openSqliteStore } from '../../../src/store/sqlite/store.js';
import { T0, decision, emptyBatch } from '../records.js';

const plan = (db: Database.Database, sql: string, ...params: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');

t.test('every chunk size writes its rows in batch order, each with its own values', async (t) => {
  const store = await openSqliteStore(join(t.testdir(), 'g.db'));
  t.teardown(() => store.close());
  const shared = Object.freeze(['include[0] group staff']) as string[];
  // 64 + 16 + 4 + 3 × 1 rows, then a batch of 1 and a batch of 0.
  const sizes = [87, 1, 0];
  let n = 0;
  const written: ReturnType<typeof decision>[] = [];
  for (const size of sizes) {
    const batch = Array.from({ length: size }, () => {
      const i = n++;
      const d = decision({
        requestId: `rid-${i}`,
        time: T0 + i,
        app: i % 2 ? 'wiki' : 'grafana',
        sessionId: i % 3 ? `s${i % 5}` : null,
        email: i % 7 ? `user${i % 4}@example.com` : null,
        path: `/p/${i}`,
        outcome: i % 2 ? 'allow' : 'deny',
        policy: i % 5 ? 'staff' : null,
        // Frozen shared arrays (the policy engine's), fresh arrays and empty ones interleaved.
        reasons: i % 3 === 0 ? shared : i % 3 === 1 ? [`reason ${i}`] : [],
      });
      written.push(d);
      return d;
    });
    await store.writeBatch({ ...emptyBatch(), decisions: batch });
  }
  const page = await store.listDecisions({ limit: 500 });
  t.equal(page.items.length, 88);
  t.same(page.items.reverse(), written, 'every row comes back as given, newest first');
  const ids = store.db.prepare('SELECT request_id FROM decisions ORDER BY id').pluck().all();
  t.same(ids, written.map((d) => d.requestId), 'ids follow batch order');
});

t.test('request id lookups search the bucketed index whatever else is filtered', async (t) => {
  const store = await openSqliteStore(join(t.testdir(), 'g.db'));
  t.teardown(() => store.close());
  const indexes = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions' ORDER BY name").pluck().all();
  t.same(indexes, ['decisions_app_time', 'decisions_email_time', 'decisions_request_tail', 'decisions_session_time', 'decisions_time']);
  const ids = ['3f1c0a4e-2b7d-4c1e-9a55-0d6f3e2b1a7c', 'req-10', 'req-1', 'x', 'ünïcode-ß', 'ab:cd.ef_9'];
  await store.writeBatch({
    ...emptyBatch(),
    decisions: ids.flatMap((requestId, i) => [decision({ requestId, time: T0 + i }), decision({ requestId: `${requestId}-z`, time: T0 + i })]),
  });
  for (const id of ids) {
    const found = await store.listDecisions({ limit: 10, requestId: id });
    t.same(found.items.map((d) => d.requestId), [id], `finds ${id}`);
  }
  t.same((await store.listDecisions({ limit: 10, requestId: 'nope' })).items, []);
  t.same((await store.listDecisions({ limit: 10, requestId: 'req-1', email: 'ADA@example.com', app: 'wiki', since: T0 })).items.length, 1);

  const where = 'substr(request_id, -1) = substr(?, -1) AND request_id = ?';
  for (const extra of ['', ' AND email = ?', ' AND app = ? AND time >= ?', ' AND session_id = ?']) {
    const params = ['r', 'r', ...(extra.match(/\?/g) ?? []).map(() => 'v')];
    t.match(
      plan(store.db, `SELECT * FROM decisions INDEXED BY decisions_request_tail WHERE ${where}${extra} ORDER BY time DESC, id DESC LIMIT 51`, ...params),
      /SEARCH decisions USING INDEX decisions_request_tail \(<expr>=\?\)/,
      `request id${extra}`,
    );
  }
  // The other filters keep their own indexes.
  t.match(plan(store.db, 'SELECT * FROM decisions WHERE email = ? ORDER BY time DESC, id DESC LIMIT 51', 'e'), /USING INDEX decisions_email_time/);
  t.match(plan(store.db, 'SELECT * FROM decisions WHERE app = ? ORDER BY time DESC, id DESC LIMIT 51', 'a'), /USING INDEX decisions_app_time/);
  t.match(plan(store.db, 'SELECT * FROM decisions WHERE session_id = ? ORDER BY time DESC, id DESC LIMIT 51', 's'), /USING INDEX decisions_session_time/);
  t.match(plan(store.db, 'SELECT * FROM decisions ORDER BY time DESC, id DESC LIMIT 51'), /SCAN decisions USING INDEX decisions_time/);
});

t.test('a schema-1 store upgrades: its decisions stay findable by request id', async (t) => {
  const file = join(t.testdir(), 'g.db');
  const v1 = openDatabase(file, 50, SQLITE_MIGRATIONS.filter((m) => m.version === 1));
  const insert = v1.prepare(`INSERT INTO decisions (request_id, time, app, session_id, email, method, host, path, client_ip,
    outcome, policy, reason, reasons, config_hash) VALUES (?, ?, 'wiki', NULL, NULL, 'GET', 'h', '/', '::1', 'deny', NULL, 'x', '[]', 'c')`);
  for (let i = 0; i < 50; i++) insert.run(`old-${i}`, T0 + i);
  v1.close();

  const store = await openSqliteStore(file);
  t.teardown(() => store.close());
  t.equal(store.db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.at(-1)?.version, 'every migration applied');
  t.same((await store.listDecisions({ limit: 10, requestId: 'old-17' })).items.map((d) => d.time), [T0 + 17]);
  t.equal(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'decisions_request'").pluck().get(), 0);
});

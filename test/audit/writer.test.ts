import t, { type Test } from 'tap';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/log.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import { RecordWriter, type RecordWriterOptions } from '../../src/audit/writer.js';
import { MIN, T0, decision, emptyBatch, session, within } from '../store/records.js';
import { recordTimers } from '../helpers/timers.js';

async function setup(t: Test, opts: Partial<RecordWriterOptions> = {}) {
  const store = await openSqliteStore(join(t.testdir(), 'gatehouse.db'));
  const writer = new RecordWriter(store, { queueLimit: 1000, logger: silentLogger, ...opts });
  t.teardown(async () => {
    await writer.close();
    await store.close();
  });
  return { store, writer };
}

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const requestIds = async (store: SqliteStore) =>
  (await store.listDecisions({ limit: 1000 })).items.map((d) => d.requestId).sort();

t.test('sessions coalesce by id: newest last-seen wins, earliest first-seen kept', async (t) => {
  const { store, writer } = await setup(t);
  const net = (lastIp: string) => ({ ...session('x').network, lastIp });
  writer.session(session('s1', { lastSeenAt: T0 + MIN, network: net('192.0.2.1') }));
  writer.session(session('s1', { firstSeenAt: T0 + 3 * MIN, lastSeenAt: T0 + 3 * MIN, network: net('192.0.2.3') }));
  writer.session(session('s1', { lastSeenAt: T0 + 2 * MIN, network: net('192.0.2.2') }));
  writer.session(session('s2'));
  t.equal(writer.stats().queued, 2);
  await writer.flush();
  t.match(await store.getSession('s1'), { firstSeenAt: T0, lastSeenAt: T0 + 3 * MIN, network: { lastIp: '192.0.2.3' } });
  t.match(writer.stats(), { queued: 0, written: 2, healthy: true, failures: 0, dropped: 0 });
  t.type(writer.stats().lastFlushMs, 'number');
  await writer.flush();
  t.equal(writer.stats().written, 2, 'an empty flush writes nothing');
});

t.test('activity aggregates per session × app; decisions follow record_allowed', async (t) => {
  const { store, writer } = await setup(t, { recordAllowed: 'aggregate' });
  writer.session(session('s1'));
  for (let i = 0; i < 1000; i++) writer.activity('s1', 'wiki', `/p${i}`, T0 + i);
  writer.activity('s1', 'wiki', '/early', T0 - 5);
  writer.activity('s1', 'grafana', '/d', T0 + 7);
  t.equal(writer.stats().queued, 3);
  writer.decision(decision({ requestId: 'deny' }));
  writer.decision(decision({ requestId: 'unauth', outcome: 'unauthenticated' }));
  writer.decision(decision({ requestId: 'allow', outcome: 'allow' }));
  writer.decision(decision({ requestId: 'bypass', outcome: 'bypass' }));
  await writer.flush();
  t.same(await store.sessionActivity('s1'), [
    { sessionId: 's1', app: 'wiki', count: 1001, firstSeenAt: T0 - 5, lastSeenAt: T0 + 999, lastPath: '/p999' },
    { sessionId: 's1', app: 'grafana', count: 1, firstSeenAt: T0 + 7, lastSeenAt: T0 + 7, lastPath: '/d' },
  ]);
  t.same(await requestIds(store), ['deny', 'unauth']);
  writer.recordAllowed = 'all';
  writer.decision(decision({ requestId: 'allow-2', outcome: 'allow' }));
  await writer.flush();
  t.same(await requestIds(store), ['allow-2', 'deny', 'unauth']);
  t.equal(writer.stats().dropped, 0);
});

t.test('writes by itself within the flush interval', async (t) => {
  const { store, writer } = await setup(t, { flushIntervalMs: 20 });
  writer.decision(decision({ requestId: 'auto' }));
  const deadline = Date.now() + 2000;
  while ((await requestIds(store)).length === 0 && Date.now() < deadline) await sleep(10);
  t.same(await requestIds(store), ['auto']);
  t.equal(writer.stats().queued, 0);
});

t.test('a full queue drops allow records first, critical ones only past the hard bound', async (t) => {
  const { logger, lines } = capturingLogger();
  const { store, writer } = await setup(t, { queueLimit: 4, hardLimitFactor: 2, recordAllowed: 'all', logger });
  await store.writeBatch({ ...emptyBatch(), sessions: ['s0', 's1', 's2', 's3', 's4'].map((id) => session(id)) });
  for (const id of ['s0', 's1', 's2', 's3']) writer.activity(id, 'wiki', '/', T0);
  writer.activity('s4', 'wiki', '/', T0);
  t.equal(writer.stats().dropped, 1, 'a new aggregate is refused at the soft limit');
  writer.activity('s0', 'wiki', '/again', T0 + 1);
  t.equal(writer.stats().dropped, 1, 'an existing aggregate still counts');
  writer.decision(decision({ requestId: 'd1' }));
  t.match(writer.stats(), { queued: 4, dropped: 3 }, 'a denial evicts the oldest aggregate (2 requests)');
  for (const id of ['d2', 'd3', 'd4']) writer.decision(decision({ requestId: id }));
  t.match(writer.stats(), { queued: 4, dropped: 6 });
  writer.decision(decision({ requestId: 'allowed', outcome: 'allow' }));
  t.match(writer.stats(), { queued: 4, dropped: 7 }, 'allowed decisions are refused too');
  for (const id of ['d5', 'd6', 'd7', 'd8']) writer.decision(decision({ requestId: id }));
  t.match(writer.stats(), { queued: 8, dropped: 7, droppedCritical: 0 }, 'denials grow past the soft limit');
  writer.decision(decision({ requestId: 'd9' }));
  writer.session(session('s9'));
  t.match(writer.stats(), { queued: 8, droppedCritical: 2 }, 'past the hard bound the oldest go');
  t.match(lines.find((l) => l.level === 50), { msg: /hard bound/, totalLost: 1 });
  await writer.flush();
  t.same(await requestIds(store), ['d3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9']);
  t.ok(await store.getSession('s9'));
  t.same(await store.sessionActivity('s0'), []);
});

t.test('a full disk: records kept, unhealthy, written once there is room again', async (t) => {
  const { logger, lines } = capturingLogger();
  const { store, writer } = await setup(t, { flushIntervalMs: 10, maxBackoffMs: 50, logger });
  await store.writeBatch({ ...emptyBatch(), sessions: [session('s1')] });
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages}`);
  for (let i = 0; i < 200; i++) writer.decision(decision({ requestId: `r${i}`, reasons: ['x'.repeat(500)] }));
  for (let i = 0; i < 3; i++) writer.activity('s1', 'wiki', `/before${i}`, T0 + i);
  const [err, stats] = await within(writer, 'flush-error');
  t.match(err, { code: 'SQLITE_FULL' });
  t.match(stats, { healthy: false, lastError: /full/, queued: 201 });
  t.equal(writer.healthy, false);
  writer.activity('s1', 'wiki', '/during', T0 + 10);
  writer.session(session('s2'));
  await within(writer, 'flush-error');
  store.db.pragma('max_page_count = 1073741823');
  const [recovered] = await within(writer, 'recovered');
  t.match(recovered, { healthy: true, queued: 0, written: 202 });
  t.ok(writer.stats().failures >= 2);
  t.equal((await requestIds(store)).length, 200);
  t.match(await store.sessionActivity('s1'), [{ count: 4, firstSeenAt: T0, lastPath: '/during' }]);
  t.ok(await store.getSession('s2'));
  t.ok(lines.some((l) => l.level === 40 && /write failed/.test(String(l.msg))));
  t.ok(lines.some((l) => l.level === 30 && /writable again/.test(String(l.msg))));
});

t.test('a read-only database: retries back off, then recover', async (t) => {
  const { store, writer } = await setup(t, { flushIntervalMs: 10, maxBackoffMs: 160 });
  // The retry delays the writer asks for (within()'s 5 s ceiling aside), not a clock's reading.
  const delays = recordTimers(t, (ms) => ms === 5000);
  store.db.pragma('query_only = ON');
  writer.decision(decision({ requestId: 'ro' }));
  const [err] = await within(writer, 'flush-error');
  t.match(err, { code: 'SQLITE_READONLY' });
  for (let i = 0; i < 5; i++) await within(writer, 'flush-error');
  t.same(delays.slice(0, 5), [20, 40, 80, 160, 160], 'each retry waits twice as long, up to maxBackoffMs');
  t.equal(writer.stats().failures, 6, 'one attempt per retry');
  await t.rejects(writer.flush(), { code: 'SQLITE_READONLY' }, 'an explicit flush reports the failure');
  store.db.pragma('query_only = OFF');
  await writer.flush();
  t.match(writer.stats(), { healthy: true, queued: 0, written: 1 });
  t.same(await requestIds(store), ['ro']);
});

t.test('close writes what is pending, then ignores new records', async (t) => {
  const { store, writer } = await setup(t);
  writer.decision(decision({ requestId: 'last' }));
  t.same(await writer.close(), { lost: 0 });
  writer.decision(decision({ requestId: 'after-close' }));
  writer.session(session('late'));
  writer.activity('late', 'wiki', '/', T0);
  t.equal(writer.stats().queued, 0);
  t.same(await requestIds(store), ['last']);

  const failing = await setup(t);
  failing.store.db.pragma('query_only = ON');
  failing.writer.decision(decision());
  t.same(await failing.writer.close(), { lost: 1 }, 'close never rejects; it reports the loss');
  failing.store.db.pragma('query_only = OFF');
});

t.test('a backlog is written in bounded transactions, sessions before their activity', async (t) => {
  const { store, writer } = await setup(t, { flushIntervalMs: 100, maxBatchRecords: 10 });
  const delays = recordTimers(t, (ms) => ms === 5000 || ms === 5);
  const batches: number[][] = [];
  const write = store.writeBatch.bind(store);
  store.writeBatch = async (b) => {
    batches.push([b.sessions.length, b.activity.length, b.decisions.length]);
    return write(b);
  };
  store.db.pragma('query_only = ON');
  for (let i = 0; i < 12; i++) {
    writer.session(session(`s${i}`));
    writer.activity(`s${i}`, 'wiki', '/', T0);
  }
  for (let i = 0; i < 20; i++) writer.decision(decision({ requestId: `d${i}` }));
  await within(writer, 'flush-error');
  batches.length = 0;
  store.db.pragma('query_only = OFF');
  await within(writer, 'recovered');
  while (writer.stats().queued > 0) await sleep(5);
  // Retries wait 200 ms and more, idle turns 100 ms: the zeros are the backlog going on at once.
  t.same(delays.filter((ms) => ms < 100), [0, 0, 0], 'the backlog continues on the next turn, not after the interval');
  t.same(batches, [[10, 0, 0], [2, 8, 0], [0, 4, 6], [0, 0, 10], [0, 0, 4]]);
  t.equal((await requestIds(store)).length, 20);
  t.equal((await store.listSessions({ limit: 100, app: 'wiki' })).items.length, 12, 'no activity was written before its session');

  for (let i = 0; i < 25; i++) writer.decision(decision({ requestId: `e${i}` }));
  batches.length = 0;
  await writer.flush();
  t.same(batches, [[0, 0, 10], [0, 0, 10], [0, 0, 5]], 'flush() drains the whole queue');
});

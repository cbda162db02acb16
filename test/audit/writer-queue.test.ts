import t from 'tap';
import { PendingRecords, type DropCounters } from '../../src/audit/writer-queue.js';
import { T0, decision, session } from '../store/records.js';

const queue = (soft: number, hard: number, counters: DropCounters = { dropped: 0, droppedCritical: 0 }) =>
  new PendingRecords(soft, hard, counters);

t.test('merging a failed batch back in front of newer records', async (t) => {
  const counters = { dropped: 0, droppedCritical: 0 };
  const older = queue(100, 1000, counters);
  const newer = queue(100, 1000, counters);
  older.addSession(session('s1', { firstSeenAt: T0 + 1, lastSeenAt: T0 + 1 }));
  older.addSession(session('s3', { lastSeenAt: T0 + 9 }));
  newer.addSession(session('s1', { firstSeenAt: T0 + 3, lastSeenAt: T0 + 3, name: 'newer' }));
  newer.addSession(session('s3', { lastSeenAt: T0 + 5, name: 'stale' }));
  newer.addSession(session('s2'));
  older.addActivity('s1', 'wiki', '/a', T0 + 5);
  older.addActivity('s1', 'wiki', '/a', T0 + 10);
  newer.addActivity('s1', 'wiki', '/b', T0 + 2);
  newer.addActivity('s1', 'wiki', '/b', T0 + 8);
  newer.addActivity('s1', 'wiki', '/c', T0 + 12);
  newer.addActivity('s1', 'grafana', '/g', T0);
  older.addKept(decision({ requestId: 'k-old' }));
  newer.addKept(decision({ requestId: 'k-new' }));
  older.addAllowed(decision({ requestId: 'a-old', outcome: 'allow' }));
  newer.addAllowed(decision({ requestId: 'a-new', outcome: 'allow' }));

  const merged = PendingRecords.merge(older, newer);
  const batch = merged.toBatch();
  t.same(batch.sessions.map((s) => [s.id, s.firstSeenAt - T0, s.lastSeenAt - T0, s.name]), [
    ['s1', 1, 3, 'newer'],
    ['s3', 0, 9, 'Ada Lovelace'],
    ['s2', 0, 0, 'Ada Lovelace'],
  ]);
  t.same(
    batch.activity.map((a) => [a.app, a.count, a.firstSeenAt - T0, a.lastSeenAt - T0, a.lastPath]),
    [
      ['wiki', 5, 2, 12, '/c'],
      ['grafana', 1, 0, 0, '/g'],
    ],
  );
  t.same(batch.decisions.map((d) => d.requestId), ['k-old', 'k-new', 'a-old', 'a-new']);
  t.same(counters, { dropped: 0, droppedCritical: 0 });
});

t.test('after a merge the limits apply again: allow records first, then the oldest critical', async (t) => {
  const counters = { dropped: 0, droppedCritical: 0 };
  const older = queue(3, 5, counters);
  const newer = queue(3, 5, counters);
  older.addAllowed(decision({ requestId: 'a1', outcome: 'allow' }));
  older.addAllowed(decision({ requestId: 'a2', outcome: 'allow' }));
  older.addKept(decision({ requestId: 'k1' }));
  older.addActivity('s1', 'wiki', '/', T0);
  newer.addActivity('s1', 'wiki', '/', T0);
  newer.addKept(decision({ requestId: 'k2' }));
  newer.addKept(decision({ requestId: 'k3' }));
  newer.addKept(decision({ requestId: 'k4' }));
  let merged = PendingRecords.merge(older, newer);
  t.same(merged.toBatch().decisions.map((d) => d.requestId), ['k1', 'k2', 'k3', 'k4']);
  t.same(counters, { dropped: 4, droppedCritical: 0 }, 'two allowed decisions and an aggregate of two requests');

  const more = queue(3, 5, counters);
  for (const id of ['k5', 'k6']) more.addKept(decision({ requestId: id }));
  more.addSession(session('s9'));
  merged = PendingRecords.merge(merged, more);
  t.equal(merged.size, 5);
  t.same(merged.toBatch().decisions.map((d) => d.requestId), ['k3', 'k4', 'k5', 'k6']);
  t.equal(counters.droppedCritical, 2);
});

t.test('with only sessions queued, the oldest session goes past the hard bound', async (t) => {
  const counters = { dropped: 0, droppedCritical: 0 };
  const q = queue(1, 2, counters);
  for (const id of ['s1', 's2', 's3']) q.addSession(session(id));
  t.same(q.toBatch().sessions.map((s) => s.id), ['s2', 's3']);
  t.same(counters, { dropped: 0, droppedCritical: 1 });
});

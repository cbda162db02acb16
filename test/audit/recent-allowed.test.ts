// The ring of recent allowed request ids: newest wins, the oldest are forgotten.
import t from 'tap';
import crypto from 'node:crypto';
import { RecentAllowed } from '../../src/audit/recent-allowed.js';

t.test('finds the newest entry of an id; forgets what the ring overwrote', async (t) => {
  const r = new RecentAllowed(4);
  r.add('a', 'wiki', 's1', 1);
  r.add('b', 'public', null, 2);
  t.same(r.find('a'), { requestId: 'a', app: 'wiki', outcome: 'allow', sessionId: 's1', time: 1 });
  t.same(r.find('b'), { requestId: 'b', app: 'public', outcome: 'bypass', sessionId: null, time: 2 });
  t.equal(r.find('zz'), null);
  for (const id of ['c', 'd', 'e']) r.add(id, 'wiki', 's2', 3);
  t.equal(r.find('a'), null, 'overwritten after 4 more');
  t.match(r.find('b'), { app: 'public' });
  r.add('b', 'wiki', 's3', 9);
  t.match(r.find('b'), { app: 'wiki', sessionId: 's3', time: 9 }, 'a repeated id (from a trusted proxy) finds the latest');
});

t.test('the gateway’s own ids (UUIDs, kept as bytes) and any other id a trusted proxy sent are found exactly', async (t) => {
  const r = new RecentAllowed(8);
  const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
  ids.forEach((id, i) => r.add(id, 'wiki', `s${i}`, 10 + i));
  r.add('proxy-id-1', 'public', null, 20);
  const upper = ids[0]!.toUpperCase();
  r.add(upper, 'wiki', 'sU', 21);
  ids.forEach((id, i) => t.same(r.find(id), { requestId: id, app: 'wiki', outcome: 'allow', sessionId: `s${i}`, time: 10 + i }, `uuid ${i}`));
  t.match(r.find('proxy-id-1'), { app: 'public', outcome: 'bypass' });
  t.match(r.find(upper), { sessionId: 'sU' }, 'an upper-case UUID is another id (kept as its string)');
  const near = ids[1]!.slice(0, -1) + (ids[1]!.endsWith('0') ? '1' : '0');
  t.equal(r.find(near), null, 'a UUID one digit off is not found');
  t.equal(r.find('00000000-0000-0000-0000-000000000000'), null, 'never-written slots match nothing');
  // A non-UUID id overwritten by a UUID in the same slot is gone; the UUID is found.
  for (let i = 0; i < 8; i++) r.add(crypto.randomUUID(), 'wiki', 'later', 30 + i);
  t.equal(r.find('proxy-id-1'), null);
  t.equal(r.find(ids[0]!), null);
});

// The ring of recent allowed request ids: newest wins, the oldest are forgotten.
import t from 'tap';
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

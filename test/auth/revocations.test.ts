import t from 'tap';
import { RevocationSet, type RevocationEvent } from '../../src/auth/revocations.js';
import type { Identity } from '../../src/policy/types.js';

const id = (over: Partial<Identity> = {}): Identity => ({
  kind: 'session',
  sessionId: 's1',
  subject: 'alice',
  groups: [],
  amr: [],
  issuer: 'gatehouse',
  claims: {},
  issuedAt: 1_000,
  expiresAt: 2_000,
  ...over,
});

t.test('sessions and app cutoffs', async (t) => {
  const r = new RevocationSet();
  const events: RevocationEvent[] = [];
  r.on('revoked', (e) => events.push(e));
  t.equal(r.isRevoked(id(), 'wiki'), false);

  r.revokeSession('s1');
  r.revokeSession('s1');
  t.equal(r.size, 1);
  t.equal(r.isRevoked(id(), 'wiki'), true);
  t.equal(r.isRevoked(id({ sessionId: 's2' }), 'wiki'), false);

  r.revokeAppBefore('wiki', 1_500_000);
  r.revokeAppBefore('wiki', 1_000_000); // never moves backwards
  t.equal(r.isRevoked(id({ sessionId: 's2', issuedAt: 1_499 }), 'wiki'), true, 'issued before the cutoff');
  t.equal(r.isRevoked(id({ sessionId: 's2', issuedAt: 1_500 }), 'wiki'), false, 'issued at/after the cutoff');
  t.equal(r.isRevoked(id({ sessionId: 's2', issuedAt: 1_499 }), 'grafana'), false, 'other apps unaffected');
  t.equal(r.isRevoked(id({ kind: 'service', sessionId: 'svc:ci', issuedAt: 1 }), 'wiki'), false, 'service tokens are not cut off by app');

  t.same(events, [{ sessionId: 's1' }, { app: 'wiki', before: 1_500_000 }], 'one event per change');

  r.load({ sessionIds: ['s1', 's3'], appCutoffs: { wiki: 1_400_000, grafana: 10 } });
  t.same(events.slice(2), [{ sessionId: 's3' }, { app: 'grafana', before: 10 }], 'load announces only what is new');
  t.same(r.snapshot(), { sessionIds: ['s1', 's3'], appCutoffs: { wiki: 1_500_000, grafana: 10 } });
  r.forget(['s1']);
  t.equal(r.isRevoked(id(), 'x'), false);
});

// Stage 4 — record, on its own: the real Recorder and batching writer over a real SQLite store.
// It never waits; after a flush the session and its per-app activity are in the store, and the
// allowed request's id is remembered (allowed requests are aggregated by default).
import t from 'tap';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { authenticate } from '../../src/pipeline/authenticate.js';
import { authorize } from '../../src/pipeline/authorize.js';
import { record } from '../../src/pipeline/record.js';
import { app, BYPASS, request, routed, setup } from './helpers.js';

t.test('an allowed request: session and activity written, request id remembered', async (t) => {
  const parts = await setup(t, { wiki: app('wiki', BYPASS) });
  const m = await mintSessionToken(parts.services.keys, { sub: 'ann', email: 'ann@corp.example', groups: [], idp: 'local', amr: ['pwd'] }, 3600_000);
  const ctx = routed(t, parts.config, request({ url: '/page', host: 'wiki.test', headers: { cookie: `gh=${m.token}` } }));
  await authenticate(ctx, parts.services);
  t.equal(authorize(ctx, parts.services), undefined);
  t.equal(record(ctx, parts.services), undefined, 'passes, synchronously');
  t.match(parts.services.recorder.recentAllowed.find(ctx.requestId), { app: 'wiki', sessionId: m.jti });
  await parts.writer.flush();
  t.match(await parts.store.getSession(m.jti), { id: m.jti, email: 'ann@corp.example' });
  t.match(await parts.store.sessionActivity(m.jti), [{ app: 'wiki' }]);
  t.same((await parts.store.listDecisions({ requestId: ctx.requestId, limit: 5 })).items, [], 'aggregated, not a decision row');
});

t.test('an anonymous bypass request is remembered without a session', async (t) => {
  const parts = await setup(t, { wiki: app('wiki', BYPASS) });
  const ctx = routed(t, parts.config, request({ host: 'wiki.test' }));
  await authenticate(ctx, parts.services);
  authorize(ctx, parts.services);
  record(ctx, parts.services);
  t.match(parts.services.recorder.recentAllowed.find(ctx.requestId), { app: 'wiki', sessionId: null, outcome: 'bypass' });
});

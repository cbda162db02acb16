// Stage 3 — authorize, on its own: the app's real compiled policies against identities the real
// authenticate stage produced. Allow passes; a deny is a 403 value; no identity where one is
// needed is a 401 value with the app's realm.
import t, { type Test } from 'tap';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { authenticate } from '../../src/pipeline/authenticate.js';
import { authorize } from '../../src/pipeline/authorize.js';
import { app, request, routed, setup } from './helpers.js';

const STAFF = `  - name: staff
    action: allow
    include:
      - group: staff
`;

async function signedIn(t: Test, parts: Awaited<ReturnType<typeof setup>>, groups: string[], headers: Record<string, string> = {}) {
  const m = await mintSessionToken(parts.services.keys, { sub: 'ann', email: 'ann@corp.example', groups, idp: 'local', amr: ['pwd'] }, 3600_000);
  const ctx = routed(t, parts.config, request({ host: 'wiki.test', headers: { cookie: `gh=${m.token}`, ...headers } }));
  await authenticate(ctx, parts.services);
  return ctx;
}

t.test('a member of the group is allowed, with the deciding policy', async (t) => {
  const parts = await setup(t, { wiki: app('wiki', STAFF) });
  const ctx = await signedIn(t, parts, ['staff']);
  t.equal(authorize(ctx, parts.services), undefined);
  t.match(ctx.decision, { outcome: 'allow', policy: 'staff' });
});

t.test('anyone else is refused with 403 and the reason', async (t) => {
  const parts = await setup(t, { wiki: app('wiki', STAFF) });
  const ctx = await signedIn(t, parts, ['sales']);
  t.match(authorize(ctx, parts.services), { code: 'forbidden', reason: 'no_policy_matched' });
  t.match(ctx.decision, { outcome: 'deny' });
});

t.test('no identity: 401 with a Bearer challenge naming the app', async (t) => {
  const parts = await setup(t, { wiki: app('wiki', STAFF) });
  const ctx = routed(t, parts.config, request({ host: 'wiki.test' }));
  await authenticate(ctx, parts.services);
  t.match(authorize(ctx, parts.services), { code: 'unauthenticated', reason: 'token_missing', headers: { 'www-authenticate': 'Bearer realm="wiki"' } });
});

t.test('a cookie WebSocket from another origin is refused', async (t) => {
  const parts = await setup(t, { wiki: app('wiki', STAFF) });
  const ctx = await signedIn(t, parts, ['staff'], { origin: 'https://evil.test' });
  ctx.upgrade = true;
  t.match(authorize(ctx, parts.services), { code: 'forbidden', reason: 'cross_site_websocket' });
});

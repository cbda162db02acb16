// Stage 2 — authenticate, on its own: a real session token minted with the real keys, verified by
// the real authenticator. It never rejects; it puts the identity (or why not) on the context.
import t from 'tap';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { authenticate } from '../../src/pipeline/authenticate.js';
import { app, BYPASS, request, routed, setup } from './helpers.js';

const user = { sub: 'ann', email: 'ann@corp.example', groups: ['staff'], idp: 'local', amr: ['pwd'] };

t.test('a session cookie becomes the identity; the second time from the cache', async (t) => {
  const { config, services } = await setup(t, { wiki: app('wiki', BYPASS) });
  const m = await mintSessionToken(services.keys, user, 3600_000);
  const first = routed(t, config, request({ host: 'wiki.test', headers: { cookie: `gh=${m.token}` } }));
  t.equal(await authenticate(first, services), undefined, 'never rejects');
  t.match(first.identity, { sessionId: m.jti, subject: 'ann', email: 'ann@corp.example', groups: ['staff'] });
  t.equal(first.credentialSource, 'cookie');
  t.equal(first.cacheHit, false);
  const again = routed(t, config, request({ host: 'wiki.test', headers: { cookie: `gh=${m.token}` } }));
  t.equal(authenticate(again, services), undefined, 'a cache hit answers synchronously');
  t.equal(again.cacheHit, true);
});

t.test('a bad credential is a reason, not a rejection; none is nothing', async (t) => {
  const { config, services } = await setup(t, { wiki: app('wiki', BYPASS) });
  const bad = routed(t, config, request({ host: 'wiki.test', headers: { authorization: 'Bearer not-a-jwt' } }));
  t.equal(await authenticate(bad, services), undefined);
  t.equal(bad.identity, undefined);
  t.equal(bad.credentialError, 'token_malformed');
  const none = routed(t, config, request({ host: 'wiki.test' }));
  t.equal(await authenticate(none, services), undefined);
  t.equal(none.identity, undefined);
  t.equal(none.credentialError, undefined, 'no credential: no error either');
});

t.test('a revoked session: no identity, the reason, and who it was (for the record)', async (t) => {
  const { config, services } = await setup(t, { wiki: app('wiki', BYPASS) });
  const m = await mintSessionToken(services.keys, user, 3600_000);
  services.revocations.revokeSession(m.jti);
  const ctx = routed(t, config, request({ host: 'wiki.test', headers: { cookie: `gh=${m.token}` } }));
  await authenticate(ctx, services);
  t.equal(ctx.identity, undefined);
  t.equal(ctx.credentialError, 'revoked');
  t.match(ctx.revokedIdentity, { sessionId: m.jti });
});

// A remote JWKS served by a real node:http server on 127.0.0.1:0.
import t, { type Test } from 'tap';
import { RemoteJwks } from '../../src/auth/remote-jwks.js';
import { externalSource } from '../../src/auth/issuers.js';
import { TokenVerifier } from '../../src/auth/verify.js';
import { closedPort, issuerConfig, signToken, sleep, startJwksServer, testKey } from './helpers.js';

const ISS = 'https://sso.test';

async function verifierFor(t: Test, url: string, cooldownMs: number, extra: { jwksRefreshMs?: number; jwksTimeoutMs?: number } = {}) {
  const src = externalSource(issuerConfig({ issuer: ISS, jwksUri: url, jwksCooldownMs: cooldownMs }), { jwksTimeoutMs: 10_000, ...extra });
  await src.start();
  t.teardown(() => src.close());
  return { src, verifier: new TokenVerifier([src.rules]) };
}

t.test('outage after a first fetch: the last good key set keeps serving, reported stale', async (t) => {
  const key = await testKey();
  const server = await startJwksServer(t, [key.publicJwk]);
  const { src, verifier } = await verifierFor(t, server.url, 50);
  t.match(src.status(), { issuer: ISS, ready: true, stale: false, lastError: null });
  t.type(src.status().lastSuccess, Date);
  const token = await signToken(key, { iss: ISS });
  t.match(await verifier.verify(token), { ok: true });

  // The endpoint starts failing with 500.
  server.respond = 500;
  await sleep(60);
  t.match(await verifier.verify(token), { ok: true }, 'known kid still verifies during a 500 outage');
  // start() again is a refresh (what the background timer does).
  await src.start();
  t.match(src.status(), { ready: true, stale: true });
  t.match(src.status().lastError, /200 OK/);

  // The endpoint disappears entirely.
  await server.stop();
  await src.start();
  t.match(src.status(), { ready: true, stale: true, lastError: /fetch failed|ECONNREFUSED/ });
  t.match(await verifier.verify(token), { ok: true }, 'known kid still verifies with the server gone');
  const stranger = await testKey();
  t.match(await verifier.verify(await signToken(stranger, { iss: ISS })), { ok: false, reason: 'unknown_key' }, 'an unknown kid is still refused');
});

t.test('unreachable at start: fails closed with keys_unavailable, not ready, then recovers', async (t) => {
  const port = await closedPort();
  const key = await testKey();
  const { src, verifier } = await verifierFor(t, `http://127.0.0.1:${port}/jwks.json`, 50);
  t.match(src.status(), { ready: false, stale: false, lastSuccess: null, lastError: /fetch failed|ECONNREFUSED/ });
  t.match(await verifier.verify(await signToken(key, { iss: ISS })), { ok: false, reason: 'keys_unavailable' });

  // An endpoint failing at start, then coming back: the next attempt after the cooldown succeeds.
  const server = await startJwksServer(t, [key.publicJwk]);
  server.respond = 500;
  const late = await verifierFor(t, server.url, 400);
  t.match(late.src.status(), { ready: false });
  const token = await signToken(key, { iss: ISS });
  t.match(await late.verifier.verify(token), { ok: false, reason: 'keys_unavailable' });
  t.equal(server.requests, 1, 'no retry inside the cooldown');
  server.respond = { keys: [key.publicJwk] };
  await sleep(450);
  t.match(await late.verifier.verify(token), { ok: true }, 'recovered');
  t.match(late.src.status(), { ready: true, stale: false, lastError: null });
});

t.test('a slow endpoint times out into keys_unavailable; an empty set is no key set', async (t) => {
  const key = await testKey();
  const server = await startJwksServer(t, [key.publicJwk]);
  // The endpoint answers after 4 s (20× the fetch timeout): start must not wait for it.
  server.delayMs = 4000;
  let answered = false;
  const answer = setTimeout(() => (answered = true), server.delayMs);
  t.teardown(() => clearTimeout(answer));
  const { src, verifier } = await verifierFor(t, server.url, 10_000, { jwksTimeoutMs: 200 });
  t.notOk(answered, 'start is bounded by the fetch timeout, not by the endpoint');
  t.match(src.status(), { ready: false });
  t.match(await verifier.verify(await signToken(key, { iss: ISS })), { ok: false, reason: 'keys_unavailable' });

  const empty = await startJwksServer(t, []);
  const e = await verifierFor(t, empty.url, 10_000);
  t.match(e.src.status(), { ready: false, lastError: /no keys/ });
});

t.test('unknown kid refetches at most once per cooldown', async (t) => {
  const a = await testKey();
  const b = await testKey();
  const server = await startJwksServer(t, [a.publicJwk]);
  const remote = new RemoteJwks(ISS, new URL(server.url), { cooldownMs: 800, timeoutMs: 500 });
  await remote.start();
  t.teardown(() => remote.close());
  const verifier = new TokenVerifier([{ ...externalSource(issuerConfig({ issuer: ISS })).rules, key: remote.resolver }]);
  t.equal(server.requests, 1, 'one fetch at start');

  // The issuer rotates: b appears at the endpoint. Within the cooldown nobody may refetch.
  server.respond = { keys: [a.publicJwk, b.publicJwk] };
  const tokB = await signToken(b, { iss: ISS });
  const early = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(tokB)));
  t.ok(early.every((r) => !r.ok && r.reason === 'unknown_key'));
  t.equal(server.requests, 1, 'no refetch inside the cooldown');

  await sleep(850);
  const burst = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(tokB)));
  t.ok(burst.every((r) => r.ok), 'after the cooldown the new key is fetched and accepted');
  t.equal(server.requests, 2, 'ten concurrent unknown-kid requests, one fetch');

  // Garbage kids do not turn into a fetch per request.
  const stranger = await testKey();
  for (let i = 0; i < 10; i++) t.match(await verifier.verify(await signToken(stranger, { iss: ISS })), { ok: false, reason: 'unknown_key' });
  t.equal(server.requests, 2, 'still inside the cooldown');
  await sleep(850);
  await verifier.verify(await signToken(stranger, { iss: ISS }));
  await verifier.verify(await signToken(stranger, { iss: ISS }));
  t.equal(server.requests, 3, 'one more fetch per cooldown, not per request');

  // While the endpoint is down, the cooldown counts from the failed attempt too.
  server.respond = 503;
  await sleep(850);
  for (let i = 0; i < 5; i++) await verifier.verify(await signToken(stranger, { iss: ISS }));
  t.equal(server.requests, 4, 'a failing endpoint is not hammered');
  t.equal(remote.fetches, 4);
  t.match(await verifier.verify(tokB), { ok: true }, 'and known keys keep working');
});

t.test('background refresh and close', async (t) => {
  const a = await testKey();
  const server = await startJwksServer(t, [a.publicJwk]);
  const remote = new RemoteJwks(ISS, new URL(server.url), { cooldownMs: 10, refreshIntervalMs: 50 });
  await remote.start();
  while (server.requests < 2) await sleep(20);
  t.pass('refreshed in the background');
  remote.close();
  t.match(remote.status(), { ready: true, stale: false });
  const n = server.requests;
  await sleep(150);
  t.equal(server.requests, n, 'no fetch after close');
  t.match(remote.status(), { ready: true, stale: true }, 'refreshes overdue: reported stale');
});

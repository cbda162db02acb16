// Two pieces of the refresh's cost cut (bench/refresh-load.mjs): the provider's HTTP client
// (undici request() on one keep-alive Agent, handed to openid-client as its fetch) keeps fetch's
// semantics that openid-client relies on, against a real server; and the "nothing changed" test
// that lets a refresh skip IdentityChanges agrees with what IdentityChanges would decide.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { idpFetch } from '../../src/login/refresh/fetch.js';
import { unchanged } from '../../src/identity/live.js';
import { patchOf } from '../../src/login/refresh/refresher.js';
import type { SessionRecord } from '../../src/store/types.js';

t.test('idpFetch: the request and the answer as fetch would carry them, no redirect followed, the timeout aborts', async (t) => {
  const seen: Array<{ method?: string; url?: string; type?: string; auth?: string; body: string; socket: number | undefined }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], auth: req.headers.authorization, body: Buffer.concat(chunks).toString(), socket: req.socket.remotePort });
      if (req.url === '/token') {
        res.writeHead(400, [['content-type', 'application/json'], ['www-authenticate', 'Bearer error="a"'], ['www-authenticate', 'DPoP error="b"']]);
        return res.end(JSON.stringify({ error: 'invalid_grant' }));
      }
      if (req.url === '/moved') return res.writeHead(302, { location: '/elsewhere' }).end();
      if (req.url === '/empty') return res.writeHead(204).end();
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000).unref();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: 'ann' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = idpFetch();
  t.teardown(() => {
    client.close();
    server.closeAllConnections();
    server.close();
  });

  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'rt 1&2' });
  const token = await client.fetch(`${base}/token`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', authorization: 'Basic YTpi' }, redirect: 'manual' });
  t.ok(token instanceof Response, 'a real Response (openid-client checks)');
  t.equal(token.status, 400);
  t.equal(token.headers.get('content-type'), 'application/json');
  t.equal(token.headers.get('www-authenticate'), 'Bearer error="a", DPoP error="b"', 'repeated headers kept, joined as fetch joins them');
  t.same(await token.json(), { error: 'invalid_grant' });
  t.equal(seen[0]?.method, 'POST');
  t.equal(seen[0]?.type, 'application/x-www-form-urlencoded;charset=UTF-8');
  t.equal(seen[0]?.auth, 'Basic YTpi');
  t.equal(new URLSearchParams(seen[0]?.body).get('refresh_token'), 'rt 1&2', 'the form arrives intact');

  const info = await client.fetch(`${base}/userinfo`, { method: 'GET', headers: { authorization: 'Bearer at' } });
  t.same(await info.json(), { sub: 'ann' });
  for (let i = 0; i < 6; i++) await (await client.fetch(`${base}/userinfo`, { method: 'GET' })).arrayBuffer();
  t.ok(new Set(seen.map((x) => x.socket)).size <= 2, 'eight requests in a row: kept-alive connections reused, not one each');

  const moved = await client.fetch(`${base}/moved`, { method: 'GET', redirect: 'manual' });
  t.equal(moved.status, 302, 'a redirect is answered, not followed');
  t.equal(seen.filter((x) => x.url === '/elsewhere').length, 0);

  const empty = await client.fetch(`${base}/empty`, { method: 'GET' });
  t.equal(empty.status, 204);
  t.equal(empty.body, null);

  await t.rejects(client.fetch(`${base}/slow`, { method: 'GET', signal: AbortSignal.timeout(100) }), 'the timeout signal aborts the request');
  await t.rejects(client.fetch(`${base}/token`, { method: 'POST', body: new Blob(['x']) }), /unsupported body type/, 'a body type openid-client never sends is refused');
});

function session(over: Partial<SessionRecord> = {}): SessionRecord {
  const groups = ['staff', 'wiki-editors'];
  return {
    id: 's-1',
    kind: 'session',
    userId: 'ann',
    email: 'ann@corp.example',
    name: 'Ann',
    idp: 'corp',
    issuer: 'gatehouse',
    groups,
    amr: ['oidc'],
    claims: { sub: 'ann', email: 'ann@corp.example', name: 'Ann', groups, idp: 'corp', amr: ['oidc'], iss: 'gatehouse', aud: 'gatehouse', jti: 's-1', iat: 1, exp: 2, email_verified: true },
    issuedAt: 1000,
    expiresAt: 2000,
    ...over,
  } as SessionRecord;
}

t.test('unchanged: true only when IdentityChanges would find nothing to write', async (t) => {
  const answer = { sub: 'ann', email: 'ann@corp.example', name: 'Ann', groups: ['staff', 'wiki-editors'], email_verified: true };
  const s = session();
  const claimsOf = (x: SessionRecord) => ({ ...x.claims, ...((x.liveState as { claims?: Record<string, unknown> } | null)?.claims ?? {}) });
  t.equal(unchanged(s, patchOf(answer, claimsOf(s))), true, 'the same answer: nothing to write');
  t.equal(unchanged(s, patchOf({ ...answer, groups: ['staff'] }, claimsOf(s))), false, 'a group removed');
  t.equal(unchanged(s, patchOf({ ...answer, groups: ['staff', 'wiki-editors', 'admins'] }, claimsOf(s))), false, 'a group added');
  t.equal(unchanged(s, patchOf({ ...answer, name: 'Ann B' }, claimsOf(s))), false, 'the name changed');
  t.equal(unchanged(s, patchOf({ ...answer, email_verified: false }, claimsOf(s))), false, 'a claim changed');
  const { email_verified: _, ...without } = answer;
  t.equal(unchanged(s, patchOf(without, claimsOf(s))), false, 'a claim the IdP no longer sends');
  t.equal(unchanged(s, patchOf({ ...answer, department: 'R&D' }, claimsOf(s))), false, 'a new claim');
  // Another channel replaced the groups meanwhile (state newer than the token): the IdP's answer
  // differs from the live identity, so the change goes through.
  const scimmed = session({ liveState: { version: 1, groups: ['admins'] }, identityVersion: 1 } as Partial<SessionRecord>);
  t.equal(unchanged(scimmed, patchOf(answer, claimsOf(scimmed))), false, 'differs from the live identity, not just the token');
  const merged = session({ liveState: { version: 2, groups: ['staff', 'wiki-editors'], merged: { scim: ['contractors'] } }, identityVersion: 2 } as Partial<SessionRecord>);
  t.equal(unchanged(merged, patchOf(answer, claimsOf(merged))), true, "another source's merged groups stay; the IdP's are the same");
  t.equal(unchanged(s, { amr: ['mfa'] }), false, 'a patch beyond groups/name/claims is never skipped');
});

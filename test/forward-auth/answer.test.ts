// /.gatehouse/auth asked directly (as a proxy would): the same authentication, policies and records
// as proxy mode, answered with 200 + identity headers, 401 (+ the login URL) or 403 + request id.
import net from 'node:net';
import t from 'tap';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { request, startUpstream } from '../helpers/stack.js';
import { ask, PROXY_IP, startForwardAuthStack } from './helpers.js';

const upstream = await startUpstream(t);
const s = await startForwardAuthStack(t, upstream.url);
const nginxStyle = (url: string, extra: Record<string, string> = {}) => ({ 'x-original-url': url, 'x-original-method': 'GET', ...extra });

t.test('allowed: 200 with the identity headers and the assertion; recorded like proxy mode', async (t) => {
  const alice = await s.session();
  const r = await ask(s.port, { headers: nginxStyle('https://wiki.test/pages/1?x=2', { cookie: `gatehouse_session=${alice.token}`, 'x-request-id': 'req-allow-1', 'user-agent': 'ua-1' }) });
  t.equal(r.status, 200);
  t.equal(r.body, '');
  t.equal(r.headers['x-request-id'], 'req-allow-1', 'the proxy’s request id is kept');
  t.equal(r.headers['x-gatehouse-user-email'], 'alice@corp.example');
  t.equal(r.headers['x-gatehouse-user-id'], 'alice-id');
  t.equal(r.headers['x-gatehouse-user-groups'], 'staff');
  t.equal(r.headers['cache-control'], 'no-store');
  const jwks = createLocalJWKSet(s.gw.services.keys.publicJwks);
  const { payload } = await jwtVerify(r.headers['x-gatehouse-jwt-assertion'] as string, jwks, { audience: 'wiki', issuer: 'gatehouse' });
  t.equal(payload.email, 'alice@corp.example');

  await s.gw.writer.flush();
  const session = await s.gw.store.getSession(alice.jti);
  t.equal(session?.email, 'alice@corp.example', 'the session is recorded');
  t.equal(session?.network.loginUserAgent, 'ua-1');
  const activity = await s.gw.store.sessionActivity(alice.jti);
  t.match(activity, [{ app: 'wiki' }], 'activity on the forwarded app');

  const both = await ask(s.port, { headers: { 'x-forwarded-uri': '/', 'x-forwarded-host': 'both.test', 'x-forwarded-method': 'GET', cookie: `gatehouse_session=${alice.token}` } });
  t.equal(both.status, 200);
  t.equal(both.headers['x-auth-request-email'], 'alice@corp.example', 'identity_headers products are answered too');
});

t.test('bypass: 200 with the identity headers present and empty (so a proxy copying them replaces a client’s)', async (t) => {
  const alice = await s.session();
  const r = await ask(s.port, { headers: nginxStyle('http://open.test/', { cookie: `gatehouse_session=${alice.token}` }) });
  t.equal(r.status, 200);
  for (const name of ['x-gatehouse-user-email', 'x-gatehouse-user-id', 'x-gatehouse-user-groups', 'x-gatehouse-jwt-assertion']) t.equal(r.headers[name], '', name);
});

t.test('an identity’s answer is built once and reused: each answer still carries its own request id, and a bypass stays empty', async (t) => {
  const alice = await s.session();
  const cookie = `gatehouse_session=${alice.token}`;
  const first = await ask(s.port, { headers: nginxStyle('https://wiki.test/a', { cookie, 'x-request-id': 'reuse-1' }) });
  const open = await ask(s.port, { headers: nginxStyle('http://open.test/', { cookie, 'x-request-id': 'reuse-2' }) });
  const again = await ask(s.port, { headers: nginxStyle('https://wiki.test/b', { cookie, 'x-request-id': 'reuse-3' }) });
  const oauth = await ask(s.port, { headers: { 'x-forwarded-uri': '/', 'x-forwarded-host': 'both.test', 'x-forwarded-method': 'GET', cookie, 'x-request-id': 'reuse-4' } });
  t.same([first.status, open.status, again.status, oauth.status], [200, 200, 200, 200]);
  t.same([first, open, again, oauth].map((r) => r.headers['x-request-id']), ['reuse-1', 'reuse-2', 'reuse-3', 'reuse-4'], 'each answer has its own request id');
  for (const name of ['x-gatehouse-user-email', 'x-gatehouse-user-id', 'x-gatehouse-user-groups', 'x-gatehouse-jwt-assertion']) {
    t.ok(first.headers[name], `${name} answered`);
    t.equal(again.headers[name], first.headers[name], `${name}: the same on the next answer`);
    t.equal(open.headers[name], '', `${name}: empty on the bypass answer in between`);
  }
  t.equal(first.headers['x-auth-request-email'], undefined, 'another app’s identity_headers product does not leak into this app’s answer');
  t.equal(again.headers['x-auth-request-email'], undefined);
  t.equal(oauth.headers['x-auth-request-email'], 'alice@corp.example');
  t.equal(open.headers['x-auth-request-email'], undefined);
});

t.test('denied: 403 with the request id of the recorded decision', async (t) => {
  const bob = await s.session({ sub: 'bob', email: 'bob@corp.example', groups: ['contractors', 'staff'] });
  const r = await ask(s.port, { headers: nginxStyle('http://wiki.test/admin', { cookie: `gatehouse_session=${bob.token}`, 'x-original-method': 'DELETE', accept: 'application/json' }) });
  t.equal(r.status, 403);
  const id = r.headers['x-request-id'] as string;
  t.equal(r.json().request_id, id);
  await s.gw.writer.flush();
  const { items } = await s.gw.store.listDecisions({ requestId: id, limit: 5 });
  t.match(items, [{ requestId: id, app: 'wiki', outcome: 'deny', policy: 'contractors-out', method: 'DELETE', host: 'wiki.test', path: '/admin', email: 'bob@corp.example' }]);
});

t.test('unauthenticated: the login URL on the forwarded host; 401 for nginx, 302 for relaying proxies', async (t) => {
  const html = { accept: 'text/html' };
  const nginx = await ask(s.port, { headers: nginxStyle('https://wiki.test:8443/doc?a=1', html) });
  t.equal(nginx.status, 401, 'nginx auth_request accepts only 2xx, 401, 403');
  t.equal(nginx.headers.location, `https://wiki.test:8443/.gatehouse/login?rd=${encodeURIComponent('https://wiki.test:8443/doc?a=1')}`);

  const traefik = await ask(s.port, { headers: { 'x-forwarded-uri': '/doc', 'x-forwarded-host': 'wiki.test', 'x-forwarded-proto': 'https', 'x-forwarded-method': 'GET', ...html } });
  t.equal(traefik.status, 302);
  t.equal(traefik.headers.location, `https://wiki.test/.gatehouse/login?rd=${encodeURIComponent('https://wiki.test/doc')}`);

  const api = await ask(s.port, { headers: nginxStyle('https://wiki.test/api', { accept: 'application/json' }) });
  t.equal(api.status, 401);
  t.equal(api.headers.location, undefined, 'API clients get no login URL');
  t.equal(api.headers['www-authenticate'], 'Bearer realm="wiki"');

  await s.gw.writer.flush();
  const { items } = await s.gw.store.listDecisions({ requestId: api.headers['x-request-id'] as string, limit: 5 });
  t.match(items, [{ outcome: 'unauthenticated', app: 'wiki', path: '/api' }], 'recorded');
});

t.test('Envoy: the path after /.gatehouse/auth on the request’s own host', async (t) => {
  const alice = await s.session();
  const r = await ask(s.port, { path: '/.gatehouse/auth/pages?x=1', method: 'POST', headers: { host: 'wiki.test', cookie: `gatehouse_session=${alice.token}` } });
  t.equal(r.status, 200);
  t.equal(r.headers['x-gatehouse-user-email'], 'alice@corp.example');
});

t.test('a question that arrives as an upgrade itself is answered on the raw socket', async (t) => {
  const alice = await s.session();
  const answer = await new Promise<string>((resolve) => {
    const sock = net.connect({ port: s.port, host: '127.0.0.1', localAddress: PROXY_IP }, () =>
      sock.write(`GET /.gatehouse/auth HTTP/1.1\r\nHost: gatehouse.internal\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-Uri: /ws\r\nX-Forwarded-Host: wiki.test\r\nOrigin: http://wiki.test\r\nCookie: gatehouse_session=${alice.token}\r\n\r\n`),
    );
    let buf = '';
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('close', () => resolve(buf));
  });
  t.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(answer, /\r\nx-gatehouse-user-email: alice@corp\.example\r\n/);
});

t.test('revocation is enforced on the next question', async (t) => {
  const alice = await s.session();
  const headers = nginxStyle('http://wiki.test/', { cookie: `gatehouse_session=${alice.token}`, accept: 'application/json' });
  t.equal((await ask(s.port, { headers })).status, 200);
  await s.gw.revoker.revokeSession(alice.jti, 'test', 'forward-auth');
  const r = await ask(s.port, { headers });
  t.equal(r.status, 401);
  t.equal(r.json().reason, 'revoked');
});

t.test('only trusted proxies may ask; each app only in its modes', async (t) => {
  const alice = await s.session();
  const cookie = `gatehouse_session=${alice.token}`;
  const spoofed = await ask(s.port, { from: '127.0.0.1', headers: nginxStyle('http://wiki.test/', { cookie, accept: 'application/json' }) });
  t.equal(spoofed.status, 403);
  t.match(spoofed.json().message, /trusted_proxies/);
  const ambiguous = await ask(s.port, { headers: nginxStyle('http://open.test/', { cookie, 'x-forwarded-uri': '/admin', 'x-forwarded-host': 'wiki.test' }) });
  t.equal(ambiguous.status, 400, 'a request named two ways is refused, never guessed');
  t.equal(ambiguous.json().reason, 'forwarded_request_ambiguous');

  const proxyOnly = await ask(s.port, { headers: nginxStyle('http://proxied.test/', { cookie }) });
  t.equal(proxyOnly.status, 404);
  t.equal(proxyOnly.json().message, 'App proxied is not served in forward_auth mode.');
  t.equal((await ask(s.port, { headers: nginxStyle('http://nowhere.test/', { cookie }) })).status, 404);
  const direct = await request(s.port, { host: 'wiki.test', headers: { cookie } });
  t.equal(direct.status, 404, 'a forward_auth-only app is not proxied');
  t.equal((await request(s.port, { host: 'both.test', headers: { cookie } })).status, 200, 'both modes: proxied too');
  t.equal((await request(s.port, { host: 'wiki.test', path: '/.gatehouse/login' })).status, 200, 'sign-in pages on a forward_auth app host');
});

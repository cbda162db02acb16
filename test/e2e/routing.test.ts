// Routing and request hygiene against the running gateway: hosts, path prefixes, normalisation,
// malformed requests.
import t from 'tap';
import { bypassApp, rawRequest, request, startStack, startUpstream } from '../helpers/stack.js';

t.test('routing by host and longest path prefix', async (t) => {
  const up = await startUpstream(t);
  const admin = await startUpstream(t);
  const s = await startStack(t, {
    apps: {
      app: bypassApp(up.url, { hosts: ['app.test', '*.wild.test'] }),
      admin: { ...bypassApp(admin.url), name: 'admin', paths: ['/admin'] },
    },
  });

  let r = await request(s.port, { path: '/hello?x=1' });
  t.equal(r.status, 200);
  t.equal(r.json().url, '/hello?x=1', 'path and query forwarded');
  t.equal(up.seen.length, 1);

  r = await request(s.port, { path: '/admin/users' });
  t.equal(r.status, 200);
  t.equal(admin.seen.length, 1, 'longest prefix wins across apps');
  r = await request(s.port, { path: '/adminx' });
  t.equal(up.seen.length, 2, '/adminx is not under /admin');

  r = await request(s.port, { host: 'APP.Test.:8443', path: '/' });
  t.equal(r.status, 200, 'host is lowercased, port and trailing dot removed');
  r = await request(s.port, { host: 'a.b.wild.test' });
  t.equal(r.status, 200, 'wildcard host');
  r = await request(s.port, { host: 'wild.test' });
  t.equal(r.status, 404, 'wildcard does not match the bare suffix');

  r = await request(s.port, { host: 'unknown.test' });
  t.equal(r.status, 404);
  t.equal(r.json().error, 'route_not_found');
  t.match(r.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  t.equal(r.json().request_id, r.headers['x-request-id'], 'the page shows the request id');

  r = await request(s.port, { host: 'unknown.test', headers: { accept: 'text/html' } });
  t.equal(r.status, 404);
  t.match(r.headers['content-type'], /text\/html/);
  t.match(r.body, r.headers['x-request-id'] as string);
  t.equal(up.seen.length + admin.seen.length, 5, 'unknown hosts are never forwarded');
});

t.test('path normalisation: what is matched is what is forwarded', async (t) => {
  const pub = await startUpstream(t);
  const admin = await startUpstream(t);
  const s = await startStack(t, {
    apps: {
      app: { ...bypassApp(pub.url), paths: ['/public'] },
      admin: {
        name: 'admin',
        hosts: ['app.test'],
        paths: ['/admin'],
        upstream: admin.url,
        policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }],
      },
    },
  });

  for (const path of ['/public/../admin', '/public/%2e%2e/admin', '/public/.%2E/admin', '/public/./../admin/x']) {
    const r = await request(s.port, { path });
    t.equal(r.status, 401, `${path} is evaluated as /admin (needs a login)`);
  }
  t.equal(admin.seen.length, 0, 'nothing reached the admin upstream');
  t.equal(pub.seen.length, 0, 'and nothing reached /public under its rules');

  const r = await request(s.port, { path: '/public/a/./b/../c' });
  t.equal(r.status, 200);
  t.equal(pub.seen.at(-1)?.url, '/public/a/c', 'the normalised path is forwarded');

  for (const path of ['/public/a%2fb', '/public/a%2Fb', '/public/a%5cb', '/public/a\\b', '/public/%00', '/public/%0d%0a']) {
    const bad = await request(s.port, { path });
    t.equal(bad.status, 400, `${JSON.stringify(path)} is refused`);
  }
});

t.test('malformed requests get 400 and are not forwarded', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });

  let raw = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: app.test\r\nHost: evil.test\r\nConnection: close\r\n\r\n');
  t.match(raw, /^HTTP\/1\.1 400/, 'duplicate Host');
  raw = await rawRequest(s.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
  t.match(raw, /^HTTP\/1\.1 400/, 'missing Host');
  raw = await rawRequest(s.port, 'GET http://evil.test/ HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
  t.match(raw, /^HTTP\/1\.1 400/, 'absolute-form target naming another host');
  raw = await rawRequest(s.port, 'GET http://app.test/abs HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
  t.match(raw, /^HTTP\/1\.1 200/, 'absolute-form target naming the Host is fine');
  t.equal(up.seen.at(-1)?.url, '/abs');
  raw = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: app.test\r\nX_Auth_Email: boss@corp.example\r\nConnection: close\r\n\r\n');
  t.match(raw, /^HTTP\/1\.1 400/, 'header names with underscores');
  t.match(raw, /x-request-id: /i, 'error responses carry a request id');
  t.equal(up.seen.length, 1, 'only the good request was forwarded');
});

t.test('server limits: slow headers time out, oversized headers are refused', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, {
    apps: { app: bypassApp(up.url) },
    gateway: { limits: { headers_timeout: '1s', max_header_size: 2048 } },
  });
  const started = Date.now();
  // Slowloris: headers that never end.
  const slow = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: app.test\r\nX-Slow: 1\r\n', 5000);
  const took = Date.now() - started;
  t.match(slow, /^HTTP\/1\.1 408/, 'a request whose headers never finish gets 408');
  t.ok(took < 3500, `and the connection is closed after about headers_timeout (${took} ms)`);
  const big = await rawRequest(s.port, `GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  t.match(big, /^HTTP\/1\.1 431/, 'headers over max_header_size get 431');
  t.match(big, /x-request-id: [0-9a-f-]{36}/, 'with a request id');
  t.match(big, /"error":"headers_too_large","status":431/, 'its code from the error table, not bad_request');
  t.match(slow, /"error":"request_timeout","status":408/, 'likewise 408');
  t.equal(up.seen.length, 0);
});

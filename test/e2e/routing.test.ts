// Routing and request hygiene against the running gateway: hosts, path prefixes, normalisation,
// malformed requests.
import t from 'tap';
import net from 'node:net';
import { installAdminApi } from '../../src/admin/install.js';
import { adminFetch, bypassApp, rawRequest, request, startStack, startUpstream } from '../helpers/stack.js';

/** Sends raw bytes; resolves with what came back and who closed the connection first. */
function rawExchange(port: number, text: string, ceilingMs = 60_000): Promise<{ text: string; closedBy: 'server' | 'test' }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedBy: 'server' | 'test' = 'server';
    const timer = setTimeout(() => ((closedBy = 'test'), socket.destroy()), ceilingMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), closedBy });
    });
    socket.write(text);
  });
}

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

t.test('server limits: slow headers time out, oversized headers are refused; each is a findable decision', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, {
    apps: { app: bypassApp(up.url) },
    gateway: { limits: { headers_timeout: '1s', max_header_size: 2048 } },
    extend: (g) => installAdminApi(g),
  });
  // Slowloris: headers that never end. The gateway answers and closes; the test's own ceiling is
  // long, so only the gateway's headers_timeout can have ended it.
  const slow = await rawExchange(s.port, 'GET /slow?q=1 HTTP/1.1\r\nHost: app.test\r\nX-Slow: 1\r\n');
  t.match(slow.text, /^HTTP\/1\.1 408/, 'a request whose headers never finish gets 408');
  t.equal(slow.closedBy, 'server', 'and the gateway closes the connection');
  const big = await rawExchange(s.port, `GET /big HTTP/1.1\r\nHost: app.test\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  t.match(big.text, /^HTTP\/1\.1 431/, 'headers over max_header_size get 431');
  t.match(big.text, /x-request-id: [0-9a-f-]{36}/, 'with a request id');
  t.match(big.text, /"error":"headers_too_large","status":431/, 'its code from the error table, not bad_request');
  t.match(slow.text, /"error":"request_timeout","status":408/, 'likewise 408');
  const garbled = await rawExchange(s.port, 'GET /x HTTP/1.1\r\nHost app.test\r\n\r\n');
  t.match(garbled.text, /^HTTP\/1\.1 400/, 'a header line without a colon gets 400');
  t.equal(up.seen.length, 0);

  // Refused by Node's HTTP parser, before any app or session: still a request id the admin finds.
  await s.gw.writer.flush();
  const lookUp = async (text: string) => {
    const id = /x-request-id: ([0-9a-f-]{36})/i.exec(text)?.[1] ?? 'missing';
    const found = (await (await adminFetch(s, `/admin/decisions?request_id=${id}`)).json()) as { decisions: Array<Record<string, unknown>> };
    return found.decisions;
  };
  t.match(await lookUp(slow.text), [{ outcome: 'error', status: 408, reason: 'request_timeout', app: null, session_id: null, client_ip: '127.0.0.1', reasons: [/^ERR_HTTP_REQUEST_TIMEOUT/] }]);
  t.match(await lookUp(big.text), [{ outcome: 'error', status: 431, reason: 'headers_too_large', method: 'GET', path: '/big', reasons: [/^HPE_HEADER_OVERFLOW/] }]);
  t.match(await lookUp(garbled.text), [{ outcome: 'error', status: 400, reason: 'bad_request', path: '/x', reasons: [/^HPE_/] }]);
});

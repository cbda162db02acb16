// Forwarding against the running gateway: headers in both directions, streaming, upstream
// failures and client aborts.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { bypassApp, rawRequest, request, startStack, startUpstream } from '../helpers/stack.js';

t.test('hop-by-hop and spoofed headers are stripped; forwarding headers are set', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const r = await request(s.port, {
    headers: {
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': 'drop me',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      'proxy-connection': 'keep-alive',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.test',
      'x-forwarded-proto': 'https',
      'x-request-id': 'spoofed-id',
      'X-Gatehouse-User-Email': 'ceo@corp.example',
      'x-gatehouse-jwt-assertion': 'forged',
      'cf-access-authenticated-user-email': 'ceo@corp.example',
      'x-auth-request-email': 'ceo@corp.example',
      'x-pomerium-claim-email': 'ceo@corp.example',
      'x-kept': 'yes',
    },
  });
  t.equal(r.status, 200);
  const h = r.json<{ headers: Record<string, string> }>().headers;
  for (const gone of ['x-secret-hop', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection', 'x-gatehouse-user-email', 'x-gatehouse-jwt-assertion', 'cf-access-authenticated-user-email', 'x-auth-request-email', 'x-pomerium-claim-email']) {
    t.notOk(gone in h, `${gone} is not forwarded`);
  }
  t.equal(h['x-kept'], 'yes');
  t.equal(h['x-forwarded-for'], '127.0.0.1', 'X-Forwarded-For overwritten for an untrusted peer');
  t.equal(h['x-forwarded-host'], 'app.test');
  t.equal(h['x-forwarded-proto'], 'http');
  t.not(h['x-request-id'], 'spoofed-id', 'X-Request-Id from an untrusted peer is replaced');
  t.equal(h['x-request-id'], r.headers['x-request-id'], 'the upstream and the client see the same request id');
  t.equal(h.host, 'app.test', 'the Host is preserved');
});

t.test('a trusted proxy may set X-Forwarded-* and X-Request-Id', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) }, gateway: { trusted_proxies: ['127.0.0.0/8'] } });
  const r = await request(s.port, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-request-id': 'edge-123' } });
  const h = r.json<{ headers: Record<string, string> }>().headers;
  t.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1', 'chain kept and extended');
  t.equal(h['x-forwarded-proto'], 'https');
  t.equal(h['x-request-id'], 'edge-123');
  t.equal(r.headers['x-request-id'], 'edge-123');
});

t.test('response hop-by-hop headers are not passed back', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { connection: 'keep-alive, x-internal', 'x-internal': 'secret', 'keep-alive': 'timeout=99', 'x-app': 'ok', 'set-cookie': ['a=1', 'b=2'] });
    res.end('hi');
  });
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const r = await request(s.port);
  t.equal(r.body, 'hi');
  t.equal(r.headers['x-app'], 'ok');
  t.notOk(r.headers['x-internal']);
  t.not(r.headers['keep-alive'], 'timeout=99');
  t.same(r.headers['set-cookie'], ['a=1', 'b=2'], 'multi-value headers survive');
});

t.test('bodies stream both ways without buffering', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes, sha: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null }));
    });
  });
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const chunk = Buffer.alloc(64 * 1024, 7);
  const total = 160; // 10 MiB, chunked
  const expected = createHash('sha256');
  const result = await new Promise<{ bytes: number; sha: string; te: string | null }>((resolve, reject) => {
    const req = http.request({ port: s.port, host: '127.0.0.1', method: 'POST', path: '/upload', headers: { host: 'app.test' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject);
    let i = 0;
    const write = () => {
      while (i < total) {
        i++;
        expected.update(chunk);
        if (!req.write(chunk)) return req.once('drain', write);
      }
      req.end();
    };
    write();
  });
  t.equal(result.bytes, chunk.length * total);
  t.equal(result.sha, expected.digest('hex'), 'the upstream got every byte in order');
  t.equal(result.te, 'chunked', 'a chunked body stays chunked upstream');

  // Server-sent events: the first event reaches the client while the upstream is still writing
  // (it writes the last only once the client has the first), and the stream outlives `timeout`.
  let clientHasFirst: () => void = () => undefined;
  const firstArrived = new Promise<void>((r) => (clientHasFirst = r));
  let upstreamEnded = false;
  const sse = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    void firstArrived.then(() => setTimeout(() => res.end('data: last\n\n', () => (upstreamEnded = true)), 1500));
  });
  s.writeApp('app', bypassApp(sse.url, { timeout: '1s' }));
  await s.gw.configs.reload('test');
  const stream = await new Promise<{ endedBeforeFirst: boolean; all: string; status: number }>((resolve) => {
    let endedBeforeFirst: boolean | undefined;
    let all = '';
    http.get({ port: s.port, host: '127.0.0.1', path: '/events', headers: { host: 'app.test' } }, (res) => {
      res.on('data', (c) => {
        if (endedBeforeFirst === undefined) {
          endedBeforeFirst = upstreamEnded;
          clientHasFirst();
        }
        all += c;
      });
      res.on('end', () => resolve({ endedBeforeFirst: endedBeforeFirst ?? true, all, status: res.statusCode ?? 0 }));
    });
  });
  t.equal(stream.status, 200);
  t.equal(stream.endedBeforeFirst, false, 'the first event streamed before the upstream finished');
  t.equal(stream.all, 'data: first\n\ndata: last\n\n', 'a streaming response outliving `timeout` is not cut');
});

t.test('upstream failures: 502, 504, truncation, client abort', async (t) => {
  // A port with nothing listening: connection refused.
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));

  let upstreamSawClose = false;
  // /slow answers only when the test says so: a 504 that arrives first came from the app timeout.
  let answerSlow: () => void = () => undefined;
  const slowAnswered = new Promise<void>((r) => (answerSlow = r));
  t.teardown(() => answerSlow());
  let slowFinished = false;
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/slow') return void slowAnswered.then(() => res.end('late', () => (slowFinished = true)));
    if (req.url === '/truncate') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (req.url === '/hang') {
      res.on('close', () => (upstreamSawClose = true));
      return;
    }
    res.end('ok');
  });
  const s = await startStack(t, {
    apps: {
      app: bypassApp(up.url, { timeout: '1s' }),
      dead: { ...bypassApp(`http://127.0.0.1:${deadPort}`), name: 'dead', hosts: ['dead.test'] },
    },
  });

  let r = await request(s.port, { host: 'dead.test' });
  t.equal(r.status, 502);
  t.equal(r.json().error, 'upstream_unavailable');
  t.equal(r.json().request_id, r.headers['x-request-id']);
  r = await request(s.port, { host: 'dead.test', headers: { accept: 'text/html' } });
  t.equal(r.status, 502);
  t.match(r.body, /<html/);

  r = await request(s.port, { path: '/slow' });
  t.equal(r.status, 504);
  t.equal(slowFinished, false, 'answered at the app timeout, not when the upstream finished');
  answerSlow();

  const raw = await rawRequest(s.port, 'GET /truncate HTTP/1.1\r\nHost: app.test\r\n\r\n', 3000);
  const body = raw.split('\r\n\r\n')[1] ?? '';
  t.match(raw, /^HTTP\/1\.1 200/);
  t.ok(body.length < 1000, 'the client connection was closed before a complete body');

  await new Promise<void>((resolve) => {
    const req = http.get({ port: s.port, host: '127.0.0.1', path: '/hang', headers: { host: 'app.test' } });
    req.on('error', () => undefined);
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 200);
  });
  for (let i = 0; i < 50 && !upstreamSawClose; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(upstreamSawClose, 'a client abort aborts the upstream request');

  r = await request(s.port, { path: '/fine' });
  t.equal(r.status, 200, 'the gateway is still serving');
});

t.test('WebSocket upgrades are forwarded; other upgrades are not', async (t) => {
  const up = await startUpstream(t);
  up.server.on('upgrade', (req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-upstream-path: ' + req.url + '\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(s.port, '127.0.0.1', () => {
      sock.write('GET /ws/../socket HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n\r\n') && !buf.includes('echo:')) sock.write('ping');
      if (buf.includes('echo:ping')) {
        sock.destroy();
        resolve(buf);
      }
    });
    sock.on('error', reject);
  });
  t.match(reply, /^HTTP\/1\.1 101/);
  t.match(reply, /x-upstream-path: \/socket/, 'the normalised path is forwarded for upgrades too');
  t.match(reply, /echo:ping/, 'frames flow both ways');

  const h2c = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: app.test\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n');
  t.match(h2c, /^HTTP\/1\.1 400/, 'Upgrade: h2c is never forwarded');
});

// TLS on both sides: https upstreams with a per-app CA, a TLS data listener, and client
// certificates for `valid_certificate` rules.
import t from 'tap';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import net, { type AddressInfo } from 'node:net';
import { bypassApp, request, startStack, startUpstream } from '../helpers/stack.js';

const dir = resolve(import.meta.dirname, '../fixtures/tls');
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');

function httpsGet(port: number, opts: { cert?: boolean; host?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: 'app.test',
        headers: { host: opts.host ?? 'app.test' },
        ca: pem('ca.pem'),
        agent: false,
        ...(opts.cert ? { cert: pem('client.pem'), key: pem('client-key.pem') } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

t.test('https upstreams are verified against the app’s CA', async (t) => {
  const upstream = https.createServer({ cert: pem('server.pem'), key: pem('server-key.pem') }, (req, res) => {
    res.end(JSON.stringify({ url: req.url, proto: req.headers['x-forwarded-proto'] }));
  });
  upstream.on('upgrade', (req, socket) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-upstream-path: ${req.url}\r\n\r\n`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    upstream.closeAllConnections();
    return new Promise((r) => upstream.close(r));
  });
  const url = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const byName = `https://localhost:${(upstream.address() as AddressInfo).port}`;
  const s = await startStack(t, {
    apps: {
      app: bypassApp(url, { ca: './ca.pem' }),
      untrusted: { ...bypassApp(url), name: 'untrusted', hosts: ['untrusted.test'] },
      // The certificate names localhost, not wiki.test: verified against the upstream URL's name.
      named: { ...bypassApp(byName, { ca: './ca.pem' }), name: 'named', hosts: ['wiki.test'] },
    },
    files: { 'apps/ca.pem': pem('ca.pem') },
  });
  const ok = await request(s.port, { path: '/secure' });
  t.equal(ok.status, 200);
  t.equal(ok.json().url, '/secure');
  const bad = await request(s.port, { host: 'untrusted.test' });
  t.equal(bad.status, 502, 'an upstream certificate from an unknown CA is refused');
  const named = await request(s.port, { host: 'wiki.test', path: '/named' });
  t.equal(named.status, 200, 'SNI and the certificate check use the upstream URL’s host name, not the client’s Host');
  t.equal(named.json().url, '/named');
  const upgraded = await new Promise<string>((done, fail) => {
    const sock = net.connect(s.port, '127.0.0.1', () => {
      sock.write('GET /live HTTP/1.1\r\nHost: wiki.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let buf = '';
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('close', () => done(buf));
    sock.on('error', fail);
  });
  t.match(upgraded, /^HTTP\/1\.1 101[^]*x-upstream-path: \/live/, 'WebSocket upgrades to an https upstream check its own name too');
});

t.test('a TLS data listener; client certificates for valid_certificate rules', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, {
    apps: {
      app: {
        name: 'app',
        hosts: ['app.test'],
        upstream: up.url,
        policies: [{ name: 'managed-devices', action: 'bypass', include: [{ valid_certificate: true }] }],
      },
    },
    gateway: {
      tls: { cert: './tls/server.pem', key: './tls/server-key.pem', client_ca: './tls/ca.pem' },
      session: { cookie: 'gatehouse_session', keys: './keys/session.jwks.json' },
    },
    files: { 'tls/server.pem': pem('server.pem'), 'tls/server-key.pem': pem('server-key.pem'), 'tls/ca.pem': pem('ca.pem') },
  });
  t.match(s.dataUrl, /^https:/);
  const withCert = await httpsGet(s.port, { cert: true });
  t.equal(withCert.status, 200, 'a device with a certificate from the client CA gets in');
  t.equal(JSON.parse(withCert.body).headers['x-forwarded-proto'], 'https');
  const without = await httpsGet(s.port);
  t.equal(without.status, 401, 'without a client certificate nothing matched');
});

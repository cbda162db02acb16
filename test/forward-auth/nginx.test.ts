// Real nginx in front, asking Gatehouse with auth_request (docs/forward-auth/nginx-*.conf as written):
// sign-in through the routed /.gatehouse/ endpoints, allow / deny / unauthenticated, a WebSocket,
// a revocation on the next request, an open WebSocket closed on revocation when its upgrade goes
// through Gatehouse, and spoofed forwarding headers refused.
import net from 'node:net';
import t from 'tap';
import { request, startUpstream } from '../helpers/stack.js';
import { startNginx } from '../helpers/proxies.js';
import { Browser } from '../login/helpers/browser.js';
import { localSignIn } from '../login/helpers/flows.js';
import { ANN, PROXY_IP, startForwardAuthStack } from './helpers.js';
import { needsNginx } from '../helpers/machine.js';

if (needsNginx(t, 'the nginx forward-auth test')) {
  const upstream = await startUpstream(t);
  const s = await startForwardAuthStack(t, upstream.url);
  const nginx = await startNginx(t, { gatehousePort: s.port, upstreamPort: upstream.port, bindAddress: PROXY_IP });
  const base = `http://wiki.test:${nginx.port}`;
  const seenBy = (path: string) => upstream.seen.filter((r) => r.url === path).at(-1)?.headers ?? {};

  t.test('a browser signs in through nginx and reaches the app with its identity', async (t) => {
    const b = new Browser({ 'wiki.test': nginx.port });
    const first = await b.request(`${base}/pages/1?x=2`);
    t.equal(first.status, 302, nginx.log());
    t.equal(first.location?.href, `${base}/.gatehouse/login?rd=${encodeURIComponent(`${base}/pages/1?x=2`)}`);
    const post = await localSignIn(b, first.location as URL, { email: ANN.email, password: ANN.password });
    t.equal(post.status, 303);
    t.equal(post.location?.href, `${base}/pages/1?x=2`);
    const page = await b.request(post.location as URL);
    t.equal(page.status, 200);
    const headers = seenBy('/pages/1?x=2');
    t.equal(headers['x-gatehouse-user-email'], ANN.email, 'nginx copied the identity upstream');
    t.equal(headers['x-gatehouse-user-groups'], 'staff');
    t.match(headers['x-gatehouse-jwt-assertion'], /^ey/);
    t.equal(headers['x-request-id'], page.headers['x-request-id'], 'one request id for client, upstream and decision');

    const id = JSON.parse((await b.request(`${base}/.gatehouse/identity?format=json`)).body) as Record<string, unknown>;
    t.equal(id.email, ANN.email, 'the identity page through nginx');

    // Revocation: the very next request through nginx is refused.
    await s.gw.revoker.revokeSession(id.session_id as string, 'test', 'nginx');
    const after = await b.request(`${base}/pages/2`);
    t.equal(after.status, 302, 'signed out: back to sign-in');
    t.match(after.location?.pathname, '/.gatehouse/login');
    t.equal(upstream.seen.some((r) => r.url === '/pages/2'), false, 'the upstream never saw it');
  });

  t.test('allowed, denied and unauthenticated API requests', async (t) => {
    const alice = await s.session();
    const ok = await request(nginx.port, { host: 'wiki.test', path: '/api/ok', headers: { authorization: `Bearer ${alice.token}` } });
    t.equal(ok.status, 200);
    t.equal(seenBy('/api/ok')['x-gatehouse-user-email'], 'alice@corp.example');

    const bob = await s.session({ sub: 'bob', email: 'bob@corp.example', groups: ['contractors', 'staff'] });
    const denied = await request(nginx.port, { host: 'wiki.test', path: '/api/denied', headers: { cookie: `gatehouse_session=${bob.token}` } });
    t.equal(denied.status, 403);
    const id = denied.headers['x-request-id'] as string;
    t.ok(id, 'nginx shows the request id');
    await s.gw.writer.flush();
    t.match((await s.gw.store.listDecisions({ requestId: id, limit: 5 })).items, [{ outcome: 'deny', app: 'wiki', path: '/api/denied', email: 'bob@corp.example' }], 'the decision under that id');

    const anonymous = await request(nginx.port, { host: 'wiki.test', path: '/api/anon', headers: { accept: 'application/json' } });
    t.equal(anonymous.status, 401, 'an API client keeps the 401');
    t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="wiki"');
    t.equal(anonymous.headers.location, undefined);
    t.equal(upstream.seen.some((r) => r.url === '/api/denied' || r.url === '/api/anon'), false);
  });

  t.test('identity headers larger than nginx’s default one-page header buffer still pass (the recipe’s proxy_buffer_size)', async (t) => {
    const groups = ['staff', ...Array.from({ length: 120 }, (_, i) => `engineering-platform-team-${String(i).padStart(3, '0')}`)];
    const carol = await s.session({ sub: 'carol', email: 'carol@corp.example', groups });
    const r = await request(nginx.port, { host: 'wiki.test', path: '/api/many-groups', headers: { authorization: `Bearer ${carol.token}` } });
    t.equal(r.status, 200, nginx.log());
    const seen = seenBy('/api/many-groups');
    t.equal(seen['x-gatehouse-user-groups'], groups.join(','));
    const answered = ['x-gatehouse-user-email', 'x-gatehouse-user-id', 'x-gatehouse-user-groups', 'x-gatehouse-jwt-assertion'].reduce((n, h) => n + String(seen[h] ?? '').length, 0);
    t.ok(answered > 4096, `the identity headers (${answered} bytes) exceed a 4k buffer`);
  });

  t.test('a WebSocket is authorized the same way', async (t) => {
    upstream.server.on('upgrade', (req, socket: net.Socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-seen-email: ${String(req.headers['x-gatehouse-user-email'] ?? '')}\r\n\r\n`);
      // /live stays open (the next subtest closes it by revoking the session); the rest end at once.
      if (req.url !== '/live') socket.end();
    });
    const alice = await s.session();
    const handshake = (extra: string) =>
      rawExchange(nginx.port, `GET /ws HTTP/1.1\r\nHost: wiki.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
    const opened = await handshake(`Cookie: gatehouse_session=${alice.token}\r\nOrigin: http://wiki.test\r\n`);
    t.match(opened, /^HTTP\/1\.1 101/);
    t.match(opened, /x-seen-email: alice@corp\.example/i, 'the upstream saw the identity on the upgrade');
    t.match(await handshake(''), /^HTTP\/1\.1 401/, 'no credential, no 101');
    t.match(await handshake(`Cookie: gatehouse_session=${alice.token}\r\nOrigin: https://evil.test\r\n`), /^HTTP\/1\.1 403/, 'cross-site WebSocket refused');
  });

  t.test('a WebSocket routed through Gatehouse (mode: both) is closed when its session is revoked', async (t) => {
    const carol = await s.session({ sub: 'carol-id', email: 'carol@corp.example' });
    const ws = net.connect(nginx.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const closed = new Promise<void>((done) => ws.once('close', () => done()));
    ws.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
    ws.on('error', () => undefined);
    ws.write(`GET /live HTTP/1.1\r\nHost: both.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://both.test\r\nCookie: gatehouse_session=${carol.token}\r\n\r\n`);
    while (!received.includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 20));
    t.match(received.toString('latin1'), /^HTTP\/1\.1 101/, 'switched protocols');
    t.match(received.toString('latin1'), /x-seen-email: carol@corp\.example/i, 'Gatehouse carried the upgrade with the identity');
    const opened = received.length;

    await s.gw.writer.flush();
    t.ok((await s.gw.revoker.revokeUser('carol@corp.example', 'test', 'left the team')).length, 'her session revoked');
    await closed;
    const frame = received.subarray(opened);
    t.equal(frame[0], 0x88, 'a close frame came through nginx before the socket closed');
    t.equal(frame.readUInt16BE(2), 4401, 'close code 4401: the session is gone');
  });

  t.test('spoofed forwarding headers decide nothing', async (t) => {
    const bob = await s.session({ sub: 'bob', email: 'bob@corp.example', groups: ['contractors'] });
    // Through nginx: a client naming another request with the other proxies' headers is refused…
    const viaNginx = await request(nginx.port, {
      host: 'wiki.test',
      path: '/secret',
      headers: { cookie: `gatehouse_session=${bob.token}`, 'x-forwarded-uri': '/', 'x-forwarded-host': 'open.test', 'x-original-url': 'http://open.test/' },
    });
    t.not(viaNginx.status, 200, 'never let through');
    t.equal(upstream.seen.some((r) => r.url === '/secret'), false);
    // …and its identity headers never reach the app (a bypass answer sends none).
    const open = await request(nginx.port, { host: 'open.test', path: '/public', headers: { 'x-gatehouse-user-email': 'ceo@corp.example' } });
    t.equal(open.status, 200);
    t.equal(seenBy('/public')['x-gatehouse-user-email'], undefined);
    // Straight to Gatehouse from a peer that is not a trusted proxy.
    const direct = await request(s.port, { path: '/.gatehouse/auth', host: 'wiki.test', headers: { 'x-original-url': 'http://open.test/', accept: 'application/json' } });
    t.equal(direct.status, 403);
    t.match(direct.json().message, /trusted_proxies/);
    const envoyStyle = await request(s.port, { path: '/.gatehouse/auth/', host: 'open.test' });
    t.equal(envoyStyle.status, 403);
  });

  /** Writes a raw request and returns what came back until the peer closed, a refusal's head arrived (nginx keeps those connections open), or 5 s. */
  function rawExchange(port: number, text: string): Promise<string> {
    return new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
      let buf = '';
      const timer = setTimeout(() => sock.destroy(), 5000);
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n\r\n') && !buf.startsWith('HTTP/1.1 101')) sock.destroy();
      });
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(buf);
      });
      sock.on('error', () => undefined);
    });
  }
}

// Real Caddy in front, asking Gatehouse with forward_auth (docs/forward-auth/gatehouse.caddy as
// written): allowed, denied and unauthenticated requests, the sign-in pages routed to Gatehouse, and
// a WebSocket whose upgrade goes through Gatehouse closed when its session is revoked.
import net from 'node:net';
import t from 'tap';
import { request, startUpstream } from '../helpers/stack.js';
import { startCaddy } from '../helpers/proxies.js';
import { startForwardAuthStack } from './helpers.js';
import { needsCaddy } from '../helpers/machine.js';

if (needsCaddy(t, 'the Caddy forward-auth test')) {
  const upstream = await startUpstream(t);
  // Caddy cannot choose its source address: here the trusted proxy is 127.0.0.1.
  const s = await startForwardAuthStack(t, upstream.url, '127.0.0.1');
  const caddy = await startCaddy(t, { gatehousePort: s.port, upstreamPort: upstream.port });
  const seenBy = (path: string) => upstream.seen.filter((r) => r.url === path).at(-1)?.headers ?? {};

  t.test('allowed: the app sees the identity Gatehouse answered, never the client’s', async (t) => {
    const alice = await s.session();
    const r = await request(caddy.port, { host: 'wiki.test', path: '/doc?v=1', headers: { cookie: `gatehouse_session=${alice.token}`, 'x-gatehouse-user-groups': 'admins' } });
    t.equal(r.status, 200, caddy.log());
    const h = seenBy('/doc?v=1');
    t.equal(h['x-gatehouse-user-email'], 'alice@corp.example');
    t.equal(h['x-gatehouse-user-groups'], 'staff');
    t.match(h['x-gatehouse-jwt-assertion'], /^ey/);
    await s.gw.writer.flush();
    t.match(await s.gw.store.sessionActivity(alice.jti), [{ app: 'wiki' }], 'recorded on the app Caddy asked about');

    const open = await request(caddy.port, { host: 'open.test', path: '/public', headers: { 'x-gatehouse-user-email': 'ceo@corp.example' } });
    t.equal(open.status, 200);
    for (const name of ['x-gatehouse-user-email', 'x-gatehouse-user-id', 'x-gatehouse-user-groups', 'x-gatehouse-jwt-assertion']) {
      t.equal(seenBy('/public')[name] ?? '', '', `a bypass answer carries no ${name}, and the client’s copy is gone`);
    }
  });

  t.test('denied: 403 with the request id of the recorded decision', async (t) => {
    const bob = await s.session({ sub: 'bob', email: 'bob@corp.example', groups: ['contractors', 'staff'] });
    const r = await request(caddy.port, { host: 'wiki.test', path: '/admin', method: 'POST', headers: { cookie: `gatehouse_session=${bob.token}`, accept: 'application/json' } });
    t.equal(r.status, 403);
    t.equal(r.json().request_id, r.headers['x-request-id']);
    await s.gw.writer.flush();
    const { items } = await s.gw.store.listDecisions({ requestId: r.headers['x-request-id'] as string, limit: 5 });
    t.match(items, [{ outcome: 'deny', method: 'POST', host: 'wiki.test', path: '/admin' }], 'the forwarded method, host and path');
    t.equal(upstream.seen.some((x) => x.url === '/admin'), false);
  });

  t.test('unauthenticated: browsers are sent to sign in on the app host, API clients get 401', async (t) => {
    const page = await request(caddy.port, { host: `wiki.test:${caddy.port}`, path: '/doc', headers: { accept: 'text/html' } });
    t.equal(page.status, 302);
    const login = `http://wiki.test:${caddy.port}/.gatehouse/login?rd=${encodeURIComponent(`http://wiki.test:${caddy.port}/doc`)}`;
    t.equal(page.headers.location, login);
    const form = await request(caddy.port, { host: `wiki.test:${caddy.port}`, path: new URL(login).pathname + new URL(login).search });
    t.equal(form.status, 200, 'the sign-in page, routed to Gatehouse');
    t.match(form.body, /<form method="post" action="\/\.gatehouse\/login">/);

    const api = await request(caddy.port, { host: 'wiki.test', path: '/api', headers: { accept: 'application/json' } });
    t.equal(api.status, 401);
    t.equal(api.headers['www-authenticate'], 'Bearer realm="wiki"');
  });

  t.test('a WebSocket routed through Gatehouse (mode: both) is closed when its session is revoked', async (t) => {
    upstream.server.on('upgrade', (req, socket: net.Socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-seen-email: ${String(req.headers['x-gatehouse-user-email'] ?? '')}\r\n\r\n`);
    });
    const dave = await s.session({ sub: 'dave-id', email: 'dave@corp.example' });
    const ws = net.connect(caddy.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const closed = new Promise<void>((done) => ws.once('close', () => done()));
    ws.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
    ws.on('error', () => undefined);
    ws.write(`GET /live HTTP/1.1\r\nHost: both.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://both.test\r\nCookie: gatehouse_session=${dave.token}\r\n\r\n`);
    while (!received.includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 20));
    t.match(received.toString('latin1'), /^HTTP\/1\.1 101/, 'switched protocols');
    t.match(received.toString('latin1'), /x-seen-email: dave@corp\.example/i, 'Gatehouse carried the upgrade with the identity');
    const opened = received.length;

    await s.gw.writer.flush();
    t.ok((await s.gw.revoker.revokeUser('dave@corp.example', 'test', 'left the team')).length, 'his session revoked');
    await closed;
    const frame = received.subarray(opened);
    t.equal(frame[0], 0x88, 'a close frame came through Caddy before the socket closed');
    t.equal(frame.readUInt16BE(2), 4401, 'close code 4401: the session is gone');
  });
}

// Issue 17 finding 2: a response sent before the request body was read closes the connection, so
// clients that trickle a large body cannot keep their sockets (and every connection the listener
// allows) after being refused.
import t, { type Test } from 'tap';
import net from 'node:net';
import { request, startStack, startUpstream } from '../helpers/stack.js';

/** A POST announcing a large body, then one byte every 200 ms until the server closes. */
function trickle(t: Tap, port: number): Promise<{ reply: string; closedBy: 'server' | 'timeout' }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write('POST /upload HTTP/1.1\r\nhost: app.test\r\ncontent-length: 100000\r\n\r\nx'));
    let reply = '';
    const drip = setInterval(() => sock.writable && sock.write('x'), 200);
    // Generous: the fix closes at once; without it the socket stays open for the whole trickle.
    const give = setTimeout(() => finish('timeout'), 8000);
    const finish = (closedBy: 'server' | 'timeout') => {
      clearInterval(drip);
      clearTimeout(give);
      sock.destroy();
      resolve({ reply, closedBy });
    };
    sock.on('data', (d: Buffer) => (reply += d.toString()));
    sock.on('end', () => finish('server'));
    sock.on('error', () => finish('server'));
    t.teardown(() => sock.destroy());
  });
}
type Tap = Test;

t.test('a 401 to a client still sending its body closes the connection', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, {
    apps: { app: { name: 'app', hosts: ['app.test'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
    gateway: { limits: { max_connections: 5 } },
  });
  const results = await Promise.all(Array.from({ length: 5 }, () => trickle(t, s.port)));
  for (const r of results) {
    t.match(r.reply, /^HTTP\/1\.1 401 [^]*connection: close/i, 'refused at once, with Connection: close');
    t.equal(r.closedBy, 'server', 'and the gateway closed the socket although the body kept coming');
  }
  const after = await request(s.port, { path: '/' });
  t.equal(after.status, 401, 'the listener has room for other clients');
  t.equal(up.seen.length, 0);
});

t.test('an upstream answering before the body was sent closes the client connection too', async (t) => {
  const up = await startUpstream(t, (_req, res) => res.writeHead(413, { 'content-type': 'text/plain' }).end('too large'));
  const s = await startStack(t, { apps: { app: { name: 'app', hosts: ['app.test'], upstream: up.url, policies: [{ name: 'open', action: 'bypass', include: [{ everyone: true }] }] } } });
  const r = await trickle(t, s.port);
  t.match(r.reply, /^HTTP\/1\.1 413 [^]*connection: close/i);
  t.equal(r.closedBy, 'server');
});

t.test('a refused request without a body keeps its connection alive', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: { name: 'app', hosts: ['app.test'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } } });
  const r = await request(s.port, { headers: { connection: 'keep-alive' } });
  t.equal(r.status, 401);
  t.not(r.headers.connection, 'close');
});

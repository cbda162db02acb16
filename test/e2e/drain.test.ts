// A graceful stop, as a rolling restart needs it: /readyz fails at once, the listener refuses new
// connections, a request in flight finishes (told Connection: close), an open WebSocket stays open
// until limits.drain_timeout and is then closed with 1001 "going away", and only then does the
// gateway stop.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bypassApp, request, startStack, startUpstream } from '../helpers/stack.js';
import { acceptWebSockets, openWebSocket } from '../helpers/websocket.js';

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

t.test('SIGTERM-style close: unready first, in-flight work finishes, WebSockets go away cleanly', async (t) => {
  let release: () => void = () => undefined;
  const slowDone = new Promise<void>((r) => (release = r));
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/slow') void slowDone.then(() => res.end('slow done'));
    else res.end('ok');
  });
  acceptWebSockets(up);
  const stack = await startStack(t, { apps: { app: bypassApp(up.url) }, gateway: { limits: { drain_timeout: '2s' } } });
  const ready = () => fetch(`${stack.adminUrl}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { checks: Record<string, { ok: boolean }> } }));
  t.equal((await ready()).status, 200);

  const ws = await openWebSocket(stack.port, 'app.test');
  const inFlight = request(stack.port, { host: 'app.test', path: '/slow' });
  await sleep(100);
  let wsClosed = false;
  void ws.closed.then(() => (wsClosed = true));
  const closing = stack.gw.close();
  let stopped = false;
  void closing.then(() => (stopped = true));

  const unready = await ready();
  t.equal(unready.status, 503, '/readyz fails at once');
  t.equal(unready.body.checks.draining?.ok, false, 'and says why');
  t.ok(await refused(stack.port), 'new connections are refused: the balancer tries another instance');
  release();
  const reply = await inFlight;
  t.equal(reply.status, 200, 'the request in flight is served');
  t.equal(reply.body, 'slow done');
  t.equal(reply.headers.connection, 'close', 'and its connection is not kept');
  t.equal(wsClosed, false, 'the WebSocket is left open while requests finish (until drain_timeout)');
  t.equal(stopped, false, 'the open WebSocket keeps the gateway draining');
  t.equal((await ready()).status, 503, '/readyz keeps failing while draining');

  const { code } = await ws.closed;
  t.equal(code, 1001, 'the WebSocket is closed with 1001 going away');
  await closing;
});

t.test('drain_delay: /readyz fails while new connections are still accepted and answered with Connection: close', async (t) => {
  const up = await startUpstream(t, (_req, res) => res.end('ok'));
  const stack = await startStack(t, { apps: { app: bypassApp(up.url) }, gateway: { limits: { drain_delay: '8s', drain_timeout: '1s' } } });
  const closing = stack.gw.close();
  t.equal((await fetch(`${stack.adminUrl}/readyz`)).status, 503, '/readyz fails at once');
  const reply = await request(stack.port, { host: 'app.test', path: '/during-delay' });
  t.equal(reply.status, 200, 'a new connection during the delay is still served');
  t.equal(reply.headers.connection, 'close', 'and told not to come back on it');
  await closing;
  t.ok(await refused(stack.port), 'after the delay, connects are refused');
});

t.test('an idle keep-alive connection is not cut when the drain starts: a request on it is answered, then it closes', async (t) => {
  const up = await startUpstream(t, (_req, res) => res.end('ok'));
  const stack = await startStack(t, { apps: { app: bypassApp(up.url) }, gateway: { limits: { keep_alive_timeout: '60s', drain_timeout: '30s' } } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const get = (path: string) =>
    new Promise<{ status: number; connection: string | undefined; reused: boolean }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: stack.port, path, headers: { host: 'app.test' }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
  const first = await get('/before');
  t.equal(first.connection, 'keep-alive', 'the connection is kept alive');
  const closing = stack.gw.close();
  t.ok(await refused(stack.port), 'the listener is closed');
  // The client has not heard of the drain: it sends its next request on its idle connection.
  const second = await get('/after');
  t.ok(second.reused, 'the idle keep-alive connection was still open');
  t.equal(second.status, 200, 'and the request on it is answered');
  t.equal(second.connection, 'close', 'with Connection: close');
  await closing;
});

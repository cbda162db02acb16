// A graceful stop, as a rolling restart needs it: /readyz fails at once, the listener refuses new
// connections, a request in flight finishes (told Connection: close), an open WebSocket stays open
// until limits.drain_timeout and is then closed with 1001 "going away", and only then does the
// gateway stop.
import t from 'tap';
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
  const stack = await startStack(t, { apps: { app: bypassApp(up.url) }, gateway: { limits: { drain_timeout: '1s' } } });
  const ready = () => fetch(`${stack.adminUrl}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { checks: Record<string, { ok: boolean }> } }));
  t.equal((await ready()).status, 200);

  const ws = await openWebSocket(stack.port, 'app.test');
  const inFlight = request(stack.port, { host: 'app.test', path: '/slow' });
  await sleep(100);
  const started = performance.now();
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
  t.equal(stopped, false, 'the open WebSocket keeps the gateway draining');
  t.equal((await ready()).status, 503, '/readyz keeps failing while draining');

  const { code } = await ws.closed;
  t.equal(code, 1001, 'the WebSocket is closed with 1001 going away');
  t.ok(performance.now() - started >= 900, 'not before the drain timeout');
  await closing;
});

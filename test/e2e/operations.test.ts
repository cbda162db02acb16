// Operating the running gateway: hot reload, admin config status, health, metrics, access logs.
import t from 'tap';
import { Writable } from 'node:stream';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Gateway } from '../../src/gateway.js';
import net from 'node:net';
import { stringify } from 'yaml';
import { adminFetch, baseGatewayConfig, bypassApp, rawRequest, request, startStack, startUpstream } from '../helpers/stack.js';

/** Polls until `fn` holds (-1 if it never does within a generous ceiling: a wait, not a speed check). */
async function eventually(fn: () => Promise<boolean>, ms = 30_000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await fn()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 50));
  }
  return -1;
}

t.test('hot reload: add, break, fix and delete app files without a restart', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const admin = (path: string) => adminFetch(s, path).then((r) => r.json() as Promise<Record<string, unknown>>);
  const firstHash = (await admin('/admin/config')).hash;

  s.writeApp('wiki', { ...bypassApp(up.url), name: 'wiki', hosts: ['wiki.test'] });
  let took = await eventually(async () => (await request(s.port, { host: 'wiki.test' })).status === 200);
  t.ok(took >= 0, `a new app file is served without a restart (${took} ms)`);

  s.writeApp('wiki', 'name: wiki\nhosts: [wiki.test]\nupstream: http://127.0.0.1:1\npolices: []\n');
  took = await eventually(async () => (await admin('/admin/config')).last_reload_error !== null);
  t.ok(took >= 0, 'the broken file is noticed');
  const status = await admin('/admin/config');
  const problems = (status.last_reload_error as { problems: string[] }).problems;
  t.match(problems.join('\n'), /apps\/wiki\.yaml:4:1 unknown key "polices" \(did you mean "policies"\?\)/, 'the error names file, line and column');
  t.not(status.hash, firstHash);
  t.equal((await request(s.port, { host: 'wiki.test' })).status, 200, 'the last good config keeps serving');

  s.writeApp('wiki', { ...bypassApp(up.url), name: 'wiki', hosts: ['wiki.test'], paths: ['/only'] });
  took = await eventually(async () => (await admin('/admin/config')).last_reload_error === null);
  t.ok(took >= 0, 'fixing the file clears the error');
  t.equal((await request(s.port, { host: 'wiki.test', path: '/' })).status, 404, 'the edited app is in force');

  unlinkSync(join(s.dir, 'apps', 'wiki.yaml'));
  took = await eventually(async () => (await request(s.port, { host: 'wiki.test', path: '/only' })).status === 404);
  t.ok(took >= 0, 'a deleted app file is no longer served');

  const metrics = await fetch(`${s.adminUrl}/metrics`).then((r) => r.text());
  t.match(metrics, /gatehouse_config_reloads_total\{result="failure"\} [1-9]/);
  t.match(metrics, /gatehouse_config_reloads_total\{result="success"\} [1-9]/);
});

t.test('health, readiness and metrics', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const health = await fetch(`${s.adminUrl}/healthz`);
  t.equal(health.status, 200);
  const ready = await fetch(`${s.adminUrl}/readyz`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { ready: true, checks: { config: { ok: true }, store: { ok: true } } });
  await request(s.port, { path: '/x' });
  await request(s.port, { host: 'nope.test' });
  const text = await fetch(`${s.adminUrl}/metrics`).then((r) => r.text());
  t.match(text, /gatehouse_requests_total\{app="app",status="200",decision="bypass"\} 1/);
  t.match(text, /gatehouse_requests_total\{app="",status="404",decision="none"\} 1/);
  t.match(text, /gatehouse_request_duration_seconds_bucket\{le="0.005",app="app"\}/);
  const dataSide = await request(s.port, { path: '/metrics', host: 'nope.test' });
  t.equal(dataSide.status, 404, 'the data listener does not serve admin routes');
  t.equal((await fetch(`${s.adminUrl}/admin/config`)).status, 401, 'the admin API needs the admin token');
  t.equal((await adminFetch(s, '/admin/config')).status, 200);
});

t.test('one JSON access line per request, without secrets or query strings', async (t) => {
  const up = await startUpstream(t);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const dir = t.testdir({
    'gateway.yaml': `listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\nsession:\n  cookie: gatehouse_session\n  keys: ./keys.json\n  secure_cookie: false\nstore:\n  sqlite: ./data/g.db\napps: ./apps\nlog:\n  level: info\n`,
    apps: { 'app.yaml': `name: app\nhosts: [app.test]\nupstream: ${up.url}\npolicies:\n  - name: open\n    action: bypass\n    include:\n      - everyone: true\n` },
  });
  const gw = await Gateway.start({ configFile: join(dir, 'gateway.yaml'), logger, listen: { data: '127.0.0.1:0', admin: '127.0.0.1:0' } });
  t.teardown(() => gw.close());
  const port = Number(new URL(gw.dataUrl).port);
  await request(port, { path: '/page?token=supersecret', headers: { cookie: 'gatehouse_session=abc.def.ghi', authorization: 'Bearer very.secret.token' } });
  await new Promise((r) => setTimeout(r, 50));
  const access = lines.filter((l) => l.type === 'access');
  t.equal(access.length, 1);
  t.match(access[0], { app: 'app', method: 'GET', host: 'app.test', path: '/page', status: 200, decision: 'bypass', clientIp: '127.0.0.1' });
  t.match(access[0]?.requestId, /^[0-9a-f-]{36}$/);
  t.type(access[0]?.durationMs, 'number');
  const all = JSON.stringify(lines);
  for (const secret of ['supersecret', 'abc.def.ghi', 'very.secret.token']) t.notMatch(all, secret, `${secret} is never logged`);
});

t.test('settings that need a restart are reported, not silently ignored', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const yaml = `listen: 127.0.0.1:18080\nadmin:\n  listen: 127.0.0.1:0\nsession:\n  cookie: gatehouse_session\n  keys: ./keys/session.jwks.json\n  secure_cookie: false\nstore:\n  sqlite: ./data/gatehouse.db\napps: ./apps\nlog:\n  level: silent\n`;
  writeFileSync(join(s.dir, 'gateway.yaml'), yaml);
  const ok = await s.gw.configs.reload('test');
  t.equal(ok, true);
  const status = await adminFetch(s, '/admin/config').then((r) => r.json() as Promise<{ pending_restart: string[] }>);
  t.ok(status.pending_restart.some((p) => p.includes('listen')), 'listen is reported as requiring a restart');
  t.equal((await request(s.port)).status, 200, 'still serving on the original port');
});

t.test('limits changed by a reload apply at once; max_header_size is reported as needing a restart', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, { apps: { app: bypassApp(up.url) } });
  const gateway = { ...baseGatewayConfig(), limits: { max_connections: 1, headers_timeout: '1s', request_timeout: '1s', max_header_size: 32768 } };
  writeFileSync(join(s.dir, 'gateway.yaml'), stringify(gateway));
  t.equal(await s.gw.configs.reload('test'), true);
  const status = await adminFetch(s, '/admin/config').then((r) => r.json() as Promise<{ pending_restart: string[] }>);
  t.same(status.pending_restart, ['limits.max_header_size'], 'only max_header_size waits for a restart');

  // headers_timeout 1s: a client that never finishes its headers is answered 408 and closed.
  const slow = await rawRequest(s.port, 'GET / HTTP/1.1\r\nhost: app.test\r\n', 8000);
  t.match(slow, /^HTTP\/1\.1 408 /, 'the new headers_timeout applies');
  // max_connections 1: while one connection is open, a second is refused.
  const held = net.connect(s.port, '127.0.0.1');
  t.teardown(() => held.destroy());
  await new Promise((r) => held.once('connect', r));
  await new Promise((r) => setTimeout(r, 100));
  const refused = await rawRequest(s.port, 'GET / HTTP/1.1\r\nhost: app.test\r\nconnection: close\r\n\r\n', 3000).catch(() => '');
  t.equal(refused, '', 'the new max_connections applies');
  held.destroy();
});

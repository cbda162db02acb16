// Hot reload: file changes take effect without a restart; a bad change keeps the last good config.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ConfigManager } from '../../src/config/watch.js';
import { ConfigError, type GatewayConfig } from '../../src/config/types.js';
import { APP, GATEWAY, setup } from './fixture.js';

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}

function capture() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

// A generous ceiling for the event to happen, never a claim about how soon.
const within = (ms = 30_000) => ({ signal: AbortSignal.timeout(ms) });
const nextReload = (m: ConfigManager) => once(m, 'reload', within()) as Promise<[GatewayConfig, GatewayConfig]>;
const nextFailure = (m: ConfigManager) => once(m, 'reloadFailed', within());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(t: Test, opts = {}) {
  const file = setup(t, { 'wiki.yaml': APP() });
  const { logger, lines } = capture();
  const m = await ConfigManager.start(file, logger, { debounceMs: 50, env: {}, ...opts });
  t.teardown(() => m.close());
  return { m, file, apps: join(dirname(file), 'apps'), lines };
}

t.test('add, break, fix and delete app files', async (t) => {
  const { m, apps, lines } = await start(t);
  const first = m.current;
  t.same(first.apps.map((a) => a.name), ['wiki']);

  let r = nextReload(m);
  writeFileSync(join(apps, 'chat.yaml'), APP('chat'));
  const [next, prev] = await r;
  t.equal(prev, first);
  t.equal(m.current, next);
  t.same(next.apps.map((a) => a.name), ['chat', 'wiki']);
  t.equal(m.reloads, 1);

  const f = nextFailure(m);
  writeFileSync(join(apps, 'chat.yaml'), APP('chat').replace('policies:', 'polices:'));
  await f;
  t.equal(m.current, next, 'the last good config keeps running');
  t.equal(m.failedReloads, 1);
  t.same(m.lastError?.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`), ['apps/chat.yaml:4:1 unknown key "polices" (did you mean "policies"?)']);
  t.type(m.lastError?.at, Date);
  const err = lines.find((l) => l.level === 50);
  t.match(err?.msg, /config reload failed .*\napps\/chat\.yaml:4:1 unknown key "polices"/);
  t.same(err?.problems, ['apps/chat.yaml:4:1 unknown key "polices" (did you mean "policies"?)']);

  r = nextReload(m);
  writeFileSync(join(apps, 'chat.yaml'), APP('chat', 'chat2.corp.example'));
  await r;
  t.equal(m.lastError, null, 'recovered');
  t.same(m.current.apps.find((a) => a.name === 'chat')?.hosts, ['chat2.corp.example']);

  r = nextReload(m);
  rmSync(join(apps, 'chat.yaml'));
  await r;
  t.same(m.current.apps.map((a) => a.name), ['wiki'], 'deleted app is gone');
  t.equal(m.reloads, 3);
});

t.test('editing gateway.yaml, also by rename-on-save, reloads', async (t) => {
  const { m, file } = await start(t);
  let r = nextReload(m);
  writeFileSync(file, `${GATEWAY}log: {level: debug}\n`);
  await r;
  t.equal(m.current.logLevel, 'debug');
  r = nextReload(m);
  writeFileSync(`${file}.tmp`, `${GATEWAY}log: {level: warn}\n`);
  renameSync(`${file}.tmp`, file);
  await r;
  t.equal(m.current.logLevel, 'warn');
  t.same(m.pendingRestart, []);
});

t.test('settings that need a restart keep their running values and are reported', async (t) => {
  const { m, file, lines } = await start(t);
  const boot = m.current;
  const r = nextReload(m);
  writeFileSync(
    file,
    `${GATEWAY.replace('127.0.0.1:8080', '127.0.0.1:8081').replace('127.0.0.1:9901', '127.0.0.1:9902').replace('./keys.json', './other-keys.json').replace('./data/gh.db', './data/other.db')}workers: 2\nlog: {level: debug}\n`,
  );
  await r;
  t.same(m.pendingRestart, ['listen', 'admin.listen', 'workers', 'store', 'session.keys']);
  t.equal(m.current.logLevel, 'debug', 'everything else applies');
  t.same(m.current.listen, boot.listen);
  t.same(m.current.admin.listen, boot.admin.listen);
  t.equal(m.current.workers, 1);
  t.same(m.current.store, boot.store);
  t.equal(m.current.session.keysFile, boot.session.keysFile);
  t.ok(Object.isFrozen(m.current) && Object.isFrozen(m.current.session));
  const warned = lines.filter((l) => l.level === 40).map((l) => l.setting);
  t.same(warned, ['listen', 'admin.listen', 'workers', 'store', 'session.keys']);
  t.match(lines.find((l) => l.level === 40)?.msg, /listen changed and requires restart/);

  // Adding tls needs a restart too; the scheme stays what is running.
  writeFileSync(join(dirname(file), 'c.pem'), '-----BEGIN CERTIFICATE-----\n');
  writeFileSync(file, `${GATEWAY}tls: {cert: c.pem, key: c.pem}\n`);
  t.equal(await m.reload('test'), true);
  t.same(m.pendingRestart, ['tls']);
  t.equal(m.current.tls, undefined);
  t.equal(m.current.publicScheme, 'http');

  writeFileSync(file, GATEWAY);
  t.equal(await m.reload('test'), true);
  t.same(m.pendingRestart, [], 'back to the running values: nothing pending');
});

t.test('an invalid config at start throws ConfigError', async (t) => {
  const file = setup(t, { 'wiki.yaml': APP().replace('upstream', 'upstrem') });
  await t.rejects(ConfigManager.start(file, capture().logger), ConfigError);
});

t.test('explicit reload(): true/false, serialised, events even without change', async (t) => {
  const { m, apps } = await start(t, { debounceMs: 10_000 });
  let events = 0;
  m.on('reload', () => events++);
  t.same(await Promise.all([m.reload('a'), m.reload('b')]), [true, true]);
  t.equal(events, 2);
  writeFileSync(join(apps, 'bad.yaml'), 'name: [');
  t.equal(await m.reload('c'), false);
  t.equal(m.failedReloads, 1);
});

t.test('a file event that changes nothing is not a reload', async (t) => {
  const { m, apps } = await start(t);
  writeFileSync(join(apps, 'wiki.yaml'), APP());
  writeFileSync(join(apps, 'notes.txt'), 'not config');
  await sleep(400);
  t.equal(m.reloads, 0);
  t.equal(m.failedReloads, 0);
});

t.test('a throwing listener does not break reloading', async (t) => {
  const { m, lines } = await start(t);
  m.on('reload', () => {
    throw new Error('listener bug');
  });
  t.equal(await m.reload('x'), true);
  t.match(lines.find((l) => l.level === 50)?.msg, /config reload listener failed/);
});

t.test('moving the apps directory moves the watch', async (t) => {
  const { m, file } = await start(t);
  const apps2 = join(dirname(file), 'apps2');
  mkdirSync(apps2);
  let r = nextReload(m);
  writeFileSync(file, GATEWAY.replace('./apps', './apps2'));
  await r;
  t.same(m.current.apps, []);
  r = nextReload(m);
  writeFileSync(join(apps2, 'a.yaml'), APP('a'));
  await r;
  t.same(m.current.apps.map((a) => a.name), ['a']);
});

t.test('polling mode sees changes too', async (t) => {
  const { m, apps } = await start(t, { poll: true, pollMs: 100 });
  const r = nextReload(m);
  writeFileSync(join(apps, 'chat.yml'), APP('chat'));
  await r;
  t.same(m.current.apps.map((a) => a.name), ['chat', 'wiki']);
});

t.test('close() stops watching', async (t) => {
  const { m, apps } = await start(t);
  m.close();
  writeFileSync(join(apps, 'chat.yaml'), APP('chat'));
  await sleep(300);
  t.equal(m.reloads, 0);
  t.equal(await m.reload('after close'), false);
});

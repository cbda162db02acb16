// loadConfig end to end: defaults, a demo-shaped config (a fixture: never the shipped example, which
// users edit), which files count, hash and freezing.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, formatProblems } from '../../src/config/types.js';
import { APP, GATEWAY, load, problems, setup } from './fixture.js';

t.test('defaults of a minimal config', async (t) => {
  const file = setup(t, { 'wiki.yaml': APP() });
  const c = await load(t, file);
  t.equal(c.file, file);
  t.match(c.hash, /^[0-9a-f]{16}$/);
  t.type(c.loadedAt, Date);
  t.same(c.listen, { host: '127.0.0.1', port: 8080 });
  t.same(c.admin, { listen: { host: '127.0.0.1', port: 9901 } });
  t.equal(c.publicScheme, 'http');
  t.equal(c.workers, 1);
  t.equal(c.trustedProxies.contains('127.0.0.1'), false, 'no proxy is trusted by default');
  t.same(c.limits, { headersTimeoutMs: 15_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxHeaderSize: 16_384, maxConnections: 10_000, drainTimeoutMs: 10_000, drainDelayMs: 0, minBodyRate: 1024, maxInFlightPerIp: 64 });
  t.same(c.session, { cookie: 'gh', keysFile: resolve(file, '../keys.json'), durationMs: 43_200_000, secureCookie: true, cache: { maxEntries: 100_000, maxBytes: 67_108_864, maxTtlMs: 3_600_000 } });
  t.same(c.store, { sqlite: resolve(file, '../data/gh.db'), queueLimit: 10_000 });
  t.equal(c.logLevel, 'info');
  t.same(c.audit, { recordAllowed: 'aggregate', retentionMs: 604_800_000, redactClaims: [] });
  t.same(c.tokenIssuers, []);
  t.same(c.serviceTokens, []);
  t.same(c.identityProviders, []);
  t.same(c.login, { lockoutThreshold: 5, lockoutWindowMs: 900_000, lockoutDurationMs: 900_000 });
  const app = c.apps[0]!;
  t.match(app, { name: 'wiki', hosts: ['wiki.corp.example'], paths: ['/'], timeoutMs: 30_000, connectTimeoutMs: 5_000, idleTimeoutMs: 60_000 });
  t.match(app, { showDenialReasons: false, passCredentials: false, audience: 'wiki', websocketOrigins: [] });
  t.equal(app.upstream?.href, 'http://127.0.0.1:3000/');
  t.same(app.policies, [{ name: 'open', action: 'bypass', include: [{ everyone: true }] }]);
  t.ok(app.compiled, 'policies compiled');
  t.notOk('identityHeaders' in app || 'sessionDurationMs' in app || 'ca' in app);
});

t.test('every setting given', async (t) => {
  const gw = `${GATEWAY}workers: 4
limits: {headers_timeout: 10s, request_timeout: 0s, keep_alive_timeout: 2s, max_header_size: 8192, max_connections: 50, drain_timeout: 250ms, drain_delay: 2s, min_body_rate: 0, max_in_flight_per_ip: 500}
log: {level: debug}
audit: {record_allowed: all, retention: 30d, redact_claims: [ssn]}
login: {lockout_threshold: 3, lockout_window: 5m, lockout_duration: 1h}
`.replace('  keys: ./keys.json', '  keys: /etc/gh/keys.json\n  cache: {max_entries: 10, max_bytes: 2048, max_ttl: 10m}');
  const app = `name: wiki
hosts: [wiki.corp.example]
upstream: https://wiki.internal:8443/base
timeout: 1m
connect_timeout: 2s
idle_timeout: 5m
show_denial_reasons: true
identity_headers: pomerium
pass_credentials: true
audience: wiki-aud
policies:
  - {name: staff, action: allow, include: [{group: staff}], require: [{auth_method: mfa}], exclude: [{email: x@corp.example}]}
`;
  const c = await load(t, setup(t, { 'wiki.yaml': app }, gw));
  t.equal(c.workers, 4);
  t.same(c.limits, { headersTimeoutMs: 10_000, requestTimeoutMs: 0, keepAliveTimeoutMs: 2_000, maxHeaderSize: 8192, maxConnections: 50, drainTimeoutMs: 250, drainDelayMs: 2000, minBodyRate: 0, maxInFlightPerIp: 500 });
  t.equal(c.logLevel, 'debug');
  t.same(c.audit, { recordAllowed: 'all', retentionMs: 30 * 86_400_000, redactClaims: ['ssn'] });
  t.same(c.login, { lockoutThreshold: 3, lockoutWindowMs: 300_000, lockoutDurationMs: 3_600_000 });
  t.equal(c.session.keysFile, '/etc/gh/keys.json', 'absolute paths stay');
  t.same(c.session.cache, { maxEntries: 10, maxBytes: 2048, maxTtlMs: 600_000 });
  t.match(c.apps[0], { timeoutMs: 60_000, connectTimeoutMs: 2_000, idleTimeoutMs: 300_000, showDenialReasons: true, identityHeaders: 'pomerium', passCredentials: true, audience: 'wiki-aud' });
  t.equal(c.apps[0]!.upstream?.pathname, '/base');
});

t.test('a demo-shaped configuration loads cleanly', async (t) => {
  const c = await load(t, resolve(import.meta.dirname, 'fixtures/demo/gateway.yaml'));
  t.same(c.apps.map((a) => a.name), ['public', 'whoami']);
  t.same(c.apps.find((a) => a.name === 'whoami')?.hosts, ['localhost', '127.0.0.1']);
  t.equal(c.apps.find((a) => a.name === 'whoami')?.upstream?.href, 'http://127.0.0.1:8081/');
  t.same(c.identityProviders.map((p) => [p.id, p.type]), [['local', 'local_users']]);
  t.equal(c.session.secureCookie, false);
  t.equal(c.session.cookie, 'gatehouse_session');
});

t.test('app files: *.yaml and *.yml, sorted, not hidden, not recursive', async (t) => {
  const file = setup(t, {
    'b.yml': APP('b'),
    'a.yaml': APP('a'),
    '.c.yaml': 'not: [valid',
    'notes.txt': 'ignored',
    'd.yaml.swp': 'ignored',
    sub: { 'e.yaml': APP('e') },
  });
  t.same((await load(t, file)).apps.map((a) => a.name), ['a', 'b']);
});

t.test('no app files is a valid (if quiet) gateway', async (t) => {
  t.same((await load(t, setup(t))).apps, []);
});

t.test('the hash covers gateway.yaml and every app file', async (t) => {
  const file = setup(t, { 'wiki.yaml': APP() });
  const h1 = (await load(t, file)).hash;
  t.equal((await load(t, file)).hash, h1, 'stable');
  writeFileSync(resolve(file, '../apps/wiki.yaml'), `${APP()}# comment\n`);
  const h2 = (await load(t, file)).hash;
  t.not(h2, h1, 'an app edit changes it');
  writeFileSync(file, `${GATEWAY}# comment\n`);
  t.not((await load(t, file)).hash, h2, 'a gateway edit changes it');
});

t.test('the result is frozen all the way down', async (t) => {
  const c = await load(t, setup(t, { 'wiki.yaml': APP() }));
  t.ok(Object.isFrozen(c));
  t.ok(Object.isFrozen(c.session.cache));
  t.ok(Object.isFrozen(c.apps));
  t.ok(Object.isFrozen(c.apps[0]!.policies[0]!.include![0]));
  t.throws(() => {
    (c.listen as { port: number }).port = 1;
  });
});

t.test('ConfigError carries every problem; formatProblems prints them', async (t) => {
  const file = setup(t, { 'a.yaml': APP('a').replace('upstream', 'upstrem'), 'b.yaml': APP('b').replace('bypass', 'nope') });
  const err = await loadConfig(file, {}).catch((e: unknown) => e);
  t.ok(err instanceof ConfigError);
  const e = err as ConfigError;
  t.equal(e.name, 'ConfigError');
  t.equal(e.problems.length, 2);
  t.equal(e.message, formatProblems(e.problems));
  t.match(e.problems[0], { file: 'apps/a.yaml', line: 3, col: 1 });
});

t.test('YAML alias bombs and unknown aliases are refused', async (t) => {
  const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
`;
  const got = await problems(setup(t, { 'bomb.yaml': bomb, 'alias.yaml': `${APP('x')}audience: *nope\n` }));
  t.same(got[0], 'apps/alias.yaml:9:11 YAML: unknown alias *nope');
  t.match(got[1], /^apps\/bomb\.yaml:1:1 YAML: .*alias/i);
  t.equal(got.length, 2);
});

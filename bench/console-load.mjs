// Issue #13: every console page in < 200 ms with 100,000 sessions and 1,000,000 decisions in the
// store. Fills a store directly (the store's own batch writes: sessions with their app activity,
// device bindings, decisions, admin actions), starts Gatehouse on it (its own process), signs in to
// the console with an admin token and loads each page --loads times, one at a time; reports p50/p99
// against the target.
//   node bench/console-load.mjs [--sessions 100000] [--decisions 1000000] [--loads 20] [--store sqlite|postgres] [--no-write]
// --store postgres uses GATEHOUSE_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test) in a
// schema of its own, dropped at the end.
import { benchArgs } from './lib/args.mjs';
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, machineNotes } from './lib/proc.mjs';
import { cleanup, importDist, prepareGateway, startGatehouse } from './lib/gatehouse.mjs';

const { values: o } = benchArgs(import.meta.url, {
  sessions: { type: 'string', default: '100000' },
  decisions: { type: 'string', default: '1000000' },
  loads: { type: 'string', default: '20' },
  store: { type: 'string', default: 'sqlite' },
  'no-write': { type: 'boolean', default: false },
});
const N = Number(o.sessions);
const D = Number(o.decisions);
const LOADS = Number(o.loads);
const TARGET_MS = 200;
const TOKEN = 'bench-admin-token-0123456789abcdef0123';
const PG = process.env.GATEHOUSE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (...a) => process.stderr.write(`[console-load] ${a.join(' ')}\n`);
if (o.store !== 'sqlite' && o.store !== 'postgres') {
  process.stderr.write('--store must be sqlite or postgres\n');
  process.exit(2);
}

const APPS = ['bench-allow', 'bench-deny', 'bench-bypass', 'bench-plain'];
const GROUPS = [['staff'], ['staff', 'sre'], ['contractors'], ['staff', 'finance'], ['helpdesk', 'staff']];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'JP', null];
const IDPS = ['local', 'okta', 'google'];
const OUTCOMES = ['deny', 'deny', 'deny', 'deny', 'deny', 'deny', 'deny', 'unauthenticated', 'unauthenticated', 'allow'];
const pad = (i) => String(i).padStart(6, '0');
const email = (i) => `user${pad(i % Math.ceil(N / 2))}@corp.example`; // two sessions per user

const upstream = http.createServer((_req, res) => res.end('ok'));
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const schema = `gh_console_bench_${process.pid}`;
const pgUrl = `${PG}${PG.includes('?') ? '&' : '?'}schema=${schema}`;
const gw = await prepareGateway({
  upstream: `http://127.0.0.1:${upstream.address().port}`,
  logLevel: 'warn',
  gateway: o.store === 'postgres' ? { store: { postgres: pgUrl } } : {},
});
let svc;
try {
  const store =
    o.store === 'postgres'
      ? await (await importDist('store/postgres/store.js')).openPostgresStore(pgUrl)
      : await (await importDist('store/sqlite/store.js')).openSqliteStore(gw.dbFile);
  const now = Date.now();
  const seeded = Date.now();
  log(`seeding ${N} sessions (${o.store})`);
  for (let from = 0; from < N; from += 5_000) {
    const sessions = [];
    for (let i = from; i < Math.min(N, from + 5_000); i++) {
      const groups = GROUPS[i % GROUPS.length];
      const seen = now - (N - i) * 1_000; // newest last
      sessions.push({
        id: `seed-${pad(i)}`, kind: 'session', userId: `u-${i % Math.ceil(N / 2)}`, email: email(i), name: `User ${i}`, idp: IDPS[i % IDPS.length], issuer: 'gatehouse',
        groups, amr: ['pwd', 'mfa'], claims: { sub: `u-${i}`, email: email(i), groups, department: 'engineering', locale: 'en' },
        network: { loginIp: '192.0.2.10', loginUserAgent: 'Mozilla/5.0 bench', loginCountry: COUNTRIES[i % COUNTRIES.length], lastIp: '192.0.2.10', lastUserAgent: 'Mozilla/5.0 bench' },
        device: null, issuedAt: seen - 60_000, expiresAt: i % 10 === 0 ? now - 1 : now + 12 * 3600_000, firstSeenAt: seen - 60_000, lastSeenAt: seen, loginId: null,
      });
    }
    await store.writeBatch({
      sessions,
      activity: sessions.flatMap((s, k) => APPS.slice(0, 1 + (k % 3)).map((app) => ({ sessionId: s.id, app, count: 1 + k, firstSeenAt: s.firstSeenAt, lastSeenAt: s.lastSeenAt, lastPath: '/' }))),
      decisions: [],
    });
  }
  for (let i = 0; i < N; i += 7) await store.devices.bind(`seed-${pad(i)}`, `dev-${i % 1000}`, now);
  await store.revokeUser(email(3), 'admin:bench', 'seeded', now);
  log(`seeding ${D} decisions`);
  const requestIds = [];
  for (let from = 0; from < D; from += 20_000) {
    const decisions = [];
    for (let i = from; i < Math.min(D, from + 20_000); i++) {
      const s = (i * 7919) % N;
      const outcome = OUTCOMES[i % OUTCOMES.length];
      const requestId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      if (i % 50_000 === 17) requestIds.push({ requestId, session: `seed-${pad(s)}` });
      decisions.push({
        requestId, time: now - (D - i) * 500, app: APPS[i % APPS.length], sessionId: outcome === 'unauthenticated' ? null : `seed-${pad(s)}`, email: outcome === 'unauthenticated' ? null : email(s),
        method: 'GET', host: 'allow.bench.test', path: `/page/${i % 100}`, clientIp: '192.0.2.10', outcome, policy: outcome === 'deny' ? 'no-staff' : null,
        reason: outcome === 'deny' ? 'policy_deny' : outcome === 'allow' ? 'policy_allow' : 'no_credential', reasons: outcome === 'deny' ? ['include[0] group staff: matched'] : [], configHash: 'bench0123456789ab', identityVersion: 0,
      });
    }
    await store.writeBatch({ sessions: [], activity: [], decisions });
    if (from % 200_000 === 0) log(`  ${from + decisions.length}`);
  }
  log('seeding 5000 admin actions');
  for (let i = 0; i < 5000; i++) {
    await store.actions.record({ time: now - (5000 - i) * 60_000, actor: i % 3 ? 'admin:ops' : 'console:sam@corp.example', action: i % 4 ? 'session.revoke' : 'user.logout', target: i % 4 ? `seed-${pad(i)}` : email(i), reason: 'seeded', requestId: `req-${i}`, via: i % 2 ? 'api' : 'console', detail: null });
  }
  // After a bulk load PostgreSQL plans without statistics until autovacuum's analyze comes round;
  // a store that has been running has them: analyze now, as that would.
  if (o.store === 'postgres') await store.pool.query(`ANALYZE "${schema}".sessions, "${schema}".session_apps, "${schema}".decisions, "${schema}".device_sessions, "${schema}".admin_actions`);
  await store.close();
  const seedSeconds = (Date.now() - seeded) / 1000;
  log(`seeded in ${seedSeconds.toFixed(0)} s; starting Gatehouse`);

  process.env.GATEHOUSE_ADMIN_TOKEN = TOKEN;
  svc = await startGatehouse(gw, { timeoutMs: 120_000 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const request = (method, path, headers = {}, body) =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.adminPort, method, path, agent, headers: { host: `127.0.0.1:${gw.adminPort}`, ...headers } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const form = new URLSearchParams({ token: TOKEN, next: '/console/sessions' }).toString();
  const signIn = await request('POST', '/console/sign-in', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) }, form);
  const cookie = String(signIn.headers['set-cookie']?.[0] ?? '').split(';')[0];
  if (signIn.status !== 303 || !cookie) throw new Error(`console sign-in failed: HTTP ${signIn.status}`);

  const newest = `seed-${pad(N - 1)}`;
  const denial = requestIds.at(-1);
  const pages = [
    ['sessions list', '/console/sessions'],
    ['sessions, all statuses', '/console/sessions?status=all'],
    ['sessions filtered: group + country', '/console/sessions?group=sre&country=DE'],
    ['sessions filtered: no device, IdP, 1h', '/console/sessions?device=none&idp=okta&since=1h'],
    ['sessions filtered: app', '/console/sessions?app=bench-plain'],
    ['session', `/console/sessions/${newest}`],
    ['user', `/console/users/${encodeURIComponent(email(N - 1))}`],
    ['users', '/console/users'],
    ['app', '/console/apps/bench-allow'],
    ['denial explainer (request id)', `/console/decisions?request_id=${denial.requestId}`],
    ['refused requests', '/console/decisions'],
    ['actions', '/console/actions'],
    ['actions filtered', '/console/actions?actor=admin%3Aops&action=user.logout'],
  ];
  const results = [];
  for (const [name, path] of pages) {
    const first = await request('GET', path, { cookie });
    if (first.status !== 200) throw new Error(`${name} (${path}): HTTP ${first.status}: ${first.body.slice(0, 300)}`);
    const times = [];
    for (let i = 0; i < LOADS; i++) {
      const t0 = process.hrtime.bigint();
      const r = await request('GET', path, { cookie });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status}`);
    }
    times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
    results.push({ name, path, p50: q(0.5), p99: q(0.99), bytes: first.body.length });
    log(`${name}: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms`);
  }
  agent.destroy();

  const md = [
    `## Console pages with ${N.toLocaleString('en')} sessions and ${D.toLocaleString('en')} decisions (${o.store})`,
    '',
    `Each page loaded ${LOADS} times in a row after one warm-up load, through the admin listener with a console cookie; time to the last byte. Target: < ${TARGET_MS} ms.`,
    '',
    '| page | p50 ms | p99 ms | target | KiB |',
    '| --- | ---: | ---: | --- | ---: |',
    ...results.map((r) => `| ${r.name} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.p99 < TARGET_MS ? 'met' : '**missed**'} | ${(r.bytes / 1024).toFixed(0)} |`),
    '',
    `Seeding took ${seedSeconds.toFixed(0)} s. Machine: ${JSON.stringify(machineNotes())}`,
    '',
  ].join('\n');
  process.stdout.write(md);
  if (!o['no-write']) {
    mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
    writeFileSync(join(BENCH_DIR, 'results', `console-load-${o.store}-latest.md`), md);
  }
  process.exitCode = results.every((r) => r.p99 < TARGET_MS) ? 0 : 1;
} finally {
  await svc?.stop();
  upstream.close();
  cleanup(gw.dir);
  if (o.store === 'postgres') {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: PG });
    await c.connect().then(() => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => undefined);
    await c.end().catch(() => undefined);
  }
}

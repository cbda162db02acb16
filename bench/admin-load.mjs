// Issue #17 finding 9: does an admin who pages through everything slow the data plane? Gatehouse
// (its own process, SQLite) with 120,000 sessions seeded into the store; proxied requests from
// --clients sequential clients for --duration seconds, first alone, then while an admin loop walks
// every page of /admin/apps/{app}/sessions and /admin/users (limit 500) again and again.
// Reports p50/p99/max of the proxied requests in each phase and how many admin pages were served.
//   node bench/admin-load.mjs [--sessions 120000] [--duration 15] [--clients 8] [--no-write]
import { benchArgs } from './lib/args.mjs';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, machineNotes, sleep } from './lib/proc.mjs';
import { COOKIE, HOSTS, cleanup, importDist, mintCookie, prepareGateway, startGatehouse } from './lib/gatehouse.mjs';

const { values: o } = benchArgs(import.meta.url, {
  sessions: { type: 'string', default: '120000' },
  duration: { type: 'string', default: '15' },
  clients: { type: 'string', default: '8' },
  'no-write': { type: 'boolean', default: false },
});
const N = Number(o.sessions);
const DURATION = Number(o.duration);
const CLIENTS = Number(o.clients);
const TOKEN = 'bench-admin-token-0123456789abcdef0123';
const fmt = (n, digits) => n.toFixed(digits);
const log = (...a) => process.stderr.write(`[admin-load] ${a.join(' ')}\n`);

const upstream = http.createServer((_req, res) => res.end('ok'));
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const gw = await prepareGateway({ upstream: `http://127.0.0.1:${upstream.address().port}`, logLevel: 'warn' });
let svc;
try {
  log(`seeding ${N} sessions`);
  const { openSqliteStore } = await importDist('store/sqlite/store.js');
  const store = await openSqliteStore(gw.dbFile);
  const now = Date.now();
  for (let from = 0; from < N; from += 10_000) {
    const sessions = [];
    for (let i = from; i < Math.min(N, from + 10_000); i++) {
      const id = `seed-${String(i).padStart(6, '0')}`;
      sessions.push({
        id, kind: 'session', userId: `u-${i}`, email: `user${String(i).padStart(6, '0')}@corp.example`, name: `User ${i}`, idp: 'local', issuer: 'gatehouse',
        groups: ['staff'], amr: ['pwd'], claims: { sub: `u-${i}`, groups: ['staff'], department: 'engineering' },
        network: { loginIp: '192.0.2.10', loginUserAgent: 'bench', loginCountry: null, lastIp: '192.0.2.10', lastUserAgent: 'bench' },
        device: null, issuedAt: now - 60_000, expiresAt: now + 12 * 3600_000, firstSeenAt: now - 60_000, lastSeenAt: now - 60_000 + (i % 997), loginId: null,
      });
    }
    await store.writeBatch({ sessions, activity: sessions.map((s) => ({ sessionId: s.id, app: 'bench-allow', count: 1, firstSeenAt: s.lastSeenAt, lastSeenAt: s.lastSeenAt, lastPath: '/' })), decisions: [] });
  }
  await store.close();
  process.env.GATEHOUSE_ADMIN_TOKEN = TOKEN;
  svc = await startGatehouse(gw);
  const cookie = `${COOKIE}=${await mintCookie(gw.keysFile)}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 4 });

  const get = (port, host, path, headers) =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { host, ...headers } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
    });

  async function proxied(seconds) {
    const latencies = [];
    let bad = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < end) {
          const t0 = process.hrtime.bigint();
          const r = await get(gw.dataPort, HOSTS.allow, '/', { cookie });
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (r.status !== 200) bad++;
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { requests: latencies.length, bad, p50: q(0.5), p99: q(0.99), max: latencies.at(-1) };
  }

  let adminOn = false;
  let pages = 0;
  let pageBytes = 0;
  async function adminLoop() {
    while (adminOn) {
      for (const path of ['/admin/apps/bench-allow/sessions', '/admin/users']) {
        let cursor = null;
        do {
          const r = await get(gw.adminPort, 'admin', `${path}?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { authorization: `Bearer ${TOKEN}` });
          if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
          pages++;
          pageBytes += r.body.length;
          cursor = JSON.parse(r.body.toString()).next_cursor;
        } while (cursor && adminOn);
        if (!adminOn) break;
      }
    }
  }

  log('warm-up');
  await proxied(2);
  log(`proxied alone, ${DURATION} s`);
  const alone = await proxied(DURATION);
  adminOn = true;
  const admin = adminLoop();
  await sleep(500);
  log(`proxied with the admin loop, ${DURATION} s`);
  const loaded = await proxied(DURATION);
  adminOn = false;
  await admin;
  agent.destroy();

  const row = (name, r) => `| ${name} | ${r.requests} | ${r.bad} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 1)} |`;
  const md = [
    `## Admin load (finding 9): proxied latency with ${N.toLocaleString('en')} sessions`,
    '',
    `${CLIENTS} sequential clients on the allow path (cached session cookie), ${DURATION} s per phase; the admin loop walks /admin/apps/{app}/sessions and /admin/users, limit 500.`,
    '',
    '| phase | requests | non-200 | p50 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('proxied alone', alone),
    row('proxied + admin loop', loaded),
    '',
    `Admin pages served during the loop: ${pages} (${fmt(pageBytes / 1048576, 1)} MiB).`,
    '',
    `Machine: ${JSON.stringify(machineNotes())}`,
    '',
  ].join('\n');
  process.stdout.write(md);
  if (!o['no-write']) {
    mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
    writeFileSync(join(BENCH_DIR, 'results', 'admin-load-latest.md'), md);
  }
} finally {
  await svc?.stop();
  upstream.close();
  cleanup(gw.dir);
}

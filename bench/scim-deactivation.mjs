// SCIM deactivation reach (issue 11): a user with 100 live sessions is deactivated with Okta's
// PATCH {"op":"replace","value":{"active":false}}, 20 runs. With --postgres URL: two gateway
// instances, each its own `node dist/cli.js start` process, on one fresh schema; the PATCH goes to
// instance A, instance B learns through the store's notification. Two figures per run:
//   reach      PATCH response received → the first refused (401) request on the OTHER instance (B),
//              polled one request at a time on one of the user's sessions (the "≤ 1 s")
//   everywhere PATCH sent → all 100 sessions refused on both instances (checked after reach)
// Without --postgres: one instance on SQLite, "reach" measured on that instance.
// Measured 2026-12-04 on the shared 2-core machine (6 helpers busy), 20 runs, two instances on
// PostgreSQL, after the batch revocation (one transaction and one notification for the set):
// see bench/README.md. Before it (one durable transaction per session) p99 was 4.4 s.
//   npm run build && node bench/scim-deactivation.mjs [--runs 20] [--sessions 100] [--postgres URL]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { distReady, importDist } from './lib/gatehouse.mjs';
import { freePort, percentile, REPO_DIR, startService, waitForPort } from './lib/proc.mjs';

const { values: o } = parseArgs({ options: { runs: { type: 'string', default: '20' }, sessions: { type: 'string', default: '100' }, postgres: { type: 'string' } } });
const RUNS = Number(o.runs);
const SESSIONS = Number(o.sessions);
const TOKEN = 'bench-scim-token-0123456789';
if (!distReady()) throw new Error('run npm run build first');
const { loadOrCreateKeySet } = await importDist('auth/keys.js');
const { mintSessionToken } = await importDist('auth/session-token.js');

const upstream = http.createServer((_req, res) => res.end('ok'));
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const dir = mkdtempSync(join(tmpdir(), 'gh-scim-bench-'));
mkdirSync(join(dir, 'apps'));
writeFileSync(
  join(dir, 'apps', 'wiki.yaml'),
  `name: wiki\nhosts: [wiki.test]\nupstream: http://127.0.0.1:${upstream.address().port}\npolicies:\n  - {name: all, action: allow, include: [{email_domain: corp.example}]}\n`,
);
const keysFile = join(dir, 'keys.json');
const keys = await loadOrCreateKeySet(keysFile);
const schema = `bench_scim_${process.pid}`;
const storeYaml = o.postgres
  ? `  postgres: "${(() => {
      const u = new URL(o.postgres);
      u.searchParams.set('schema', schema);
      return u.toString();
    })()}"`
  : `  sqlite: ${join(dir, 'gatehouse.db')}`;

/** One instance: its own directory (admin token file), the shared keys, apps and store. */
async function startInstance(name) {
  const home = join(dir, name);
  mkdirSync(home);
  const [data, admin] = [await freePort(), await freePort()];
  writeFileSync(
    join(home, 'gateway.yaml'),
    `listen: 127.0.0.1:${data}\nadmin: {listen: 127.0.0.1:${admin}}\nsession: {cookie: s, keys: ${keysFile}, secure_cookie: false}\nstore:\n${storeYaml}\napps: ${join(dir, 'apps')}\nlog: {level: warn}\n`,
  );
  const svc = startService(`gatehouse-${name}`, process.execPath, [join(REPO_DIR, 'dist', 'cli.js'), 'start', '--config', join(home, 'gateway.yaml')], {
    cwd: home,
    env: { GATEHOUSE_SCIM_TOKEN: TOKEN },
  });
  await waitForPort(data, 30_000, '127.0.0.1', () => !svc.exited);
  await waitForPort(admin, 30_000, '127.0.0.1', () => !svc.exited);
  return { name, svc, data, adminUrl: `http://127.0.0.1:${admin}` };
}

const gateways = [await startInstance('a')];
if (o.postgres) gateways.push(await startInstance('b'));
const [first, other] = [gateways[0], gateways.at(-1)];

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const once = (gw, token) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.data, agent, headers: { host: 'wiki.test', cookie: `s=${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
// A kept-alive socket the server closed meanwhile resets: ask again on a new one.
const status = (gw, token) => once(gw, token).catch((err) => (err.code === 'ECONNRESET' ? once(gw, token) : Promise.reject(err)));
const scim = async (method, path, body) => {
  const res = await fetch(`${first.adminUrl}/scim/v2${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`SCIM ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

const reach = [];
const everywhere = [];
const answered = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const email = `user${run}@corp.example`;
    const user = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, active: true });
    const tokens = [];
    for (let i = 0; i < SESSIONS; i++) tokens.push((await mintSessionToken(keys, { sub: email, email, groups: [], amr: ['pwd'] }, 3600_000)).token);
    // Seen by both instances (cached and recorded; A's write queue is flushed by the deactivation itself).
    for (const gw of gateways) for (const t of tokens) if ((await status(gw, t)) !== 200) throw new Error(`a session was not allowed by ${gw.name} before the deactivation`);
    await new Promise((r) => setTimeout(r, 300)); // let the instances' write queues settle, as in real use
    const probe = tokens[run % tokens.length];
    const t0 = performance.now();
    await scim('PATCH', `/Users/${user.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] });
    const t1 = performance.now();
    answered.push(t1 - t0);
    while ((await status(other, probe)) !== 401) if (performance.now() - t1 > 10_000) throw new Error(`${other.name} still allows the session after 10 s`);
    reach.push(performance.now() - t1);
    let pending = gateways.flatMap((gw) => tokens.map((t) => [gw, t]));
    while (pending.length) {
      const codes = await Promise.all(pending.map(([gw, t]) => status(gw, t)));
      pending = pending.filter((_p, i) => codes[i] !== 401);
      if (performance.now() - t0 > 10_000) throw new Error(`${pending.length} sessions still allowed after 10 s`);
    }
    everywhere.push(performance.now() - t0);
  }
} finally {
  for (const gw of gateways) await gw.svc.stop();
  agent.destroy();
  upstream.close();
}
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const line = (xs) => {
  const s = sorted(xs);
  return `p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms, max ${s.at(-1).toFixed(1)} ms`;
};
console.log(`SCIM deactivation of a user with ${SESSIONS} sessions, ${gateways.length} instance(s) (separate processes) on ${o.postgres ? 'PostgreSQL' : 'SQLite'}, ${RUNS} runs`);
console.log(`  reach (PATCH answered → first 401 on ${o.postgres ? 'the other instance' : 'the instance'}): ${line(reach)}`);
console.log(`  everywhere (PATCH sent → all ${SESSIONS} sessions refused on every instance): ${line(everywhere)}`);
console.log(`  the PATCH itself: ${line(answered)}`);
if (o.postgres) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: o.postgres });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}
rmSync(dir, { recursive: true, force: true });

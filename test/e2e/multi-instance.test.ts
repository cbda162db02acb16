// Two gateway PROCESSES (dist/cli.js, built by `npm test`) sharing one config file, one session.keys
// file and one PostgreSQL schema — what "Running several instances" in the README describes:
// a session seen through A is listed by B's admin API; revoked through B, it is refused by A within
// a second (measured 20 times); and while PostgreSQL is unreachable traffic goes on, revocations
// answer 503, and the sessions first seen meanwhile are recorded once it is back.
//
// The outage is simulated with a TCP proxy between the gateways and PostgreSQL that the test cuts
// and restores (every connection dropped, new ones refused), so the machine's server — shared with
// tests running in parallel — is never stopped.
import t, { type Test } from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadOrCreateKeySet, type KeySet } from '../../src/auth/keys.js';
import { mintSessionToken, type MintedSession } from '../../src/auth/session-token.js';
import { request, startUpstream } from '../helpers/stack.js';
import { logged, startInstance, type Instance } from '../helpers/instances.js';
import { eventually, pgExec, pgUrl, startTcpProxy, testSchema, type TcpProxy } from '../helpers/pg.js';
import { needsPostgres } from '../helpers/machine.js';

const ADMIN_TOKEN = 'multi-instance-admin-token-0123456789';

interface Cluster {
  a: Instance;
  b: Instance;
  proxy: TcpProxy;
  schema: string;
  keys: KeySet;
  mint(sub: string): Promise<MintedSession>;
}

if (await needsPostgres(t, 'the multi-instance tests (several gateways on one PostgreSQL)')) tests();

async function startCluster(t: Test): Promise<Cluster> {
  const up = await startUpstream(t, (_req, res) => res.end('ok'));
  const schema = testSchema(t, 'gh_e2e');
  const proxy = await startTcpProxy(t);
  const dir = t.testdir({});
  mkdirSync(join(dir, 'apps'));
  writeFileSync(
    join(dir, 'gateway.yaml'),
    stringify({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      session: { cookie: 'gatehouse_session', keys: './keys/session.jwks.json', secure_cookie: false },
      store: { postgres: '${GATEHOUSE_STORE_URL}' },
      apps: './apps',
      log: { level: 'info' },
    }),
  );
  writeFileSync(
    join(dir, 'apps', 'app.yaml'),
    stringify({ name: 'app', hosts: ['app.test'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] }),
  );
  // One key file, created once before any instance starts, used by both (and by the test to mint).
  const keys = await loadOrCreateKeySet(join(dir, 'keys', 'session.jwks.json'));
  const env = { GATEHOUSE_STORE_URL: pgUrl({ schema, port: proxy.port }), GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN };
  const [a, b] = await Promise.all([startInstance(t, 'A', dir, env), startInstance(t, 'B', dir, env)]);
  await Promise.all([a, b].map((i) => logged(i, 'revocation feed listening')));
  const mint = (sub: string) => mintSessionToken(keys, { sub, email: `${sub}@corp.example`, groups: ['staff'], idp: 'corp', amr: ['pwd'] }, 3600_000);
  return { a, b, proxy, schema, keys, mint };
}

/** A data-plane request with the session cookie; bounded generously (a stuck gateway fails the test, never hangs it). */
async function get(i: Instance, token: string): Promise<{ status: number }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${i.name} did not answer within 60 s`)), 60_000);
  });
  try {
    return await Promise.race([request(i.port, { host: 'app.test', headers: { cookie: `gatehouse_session=${token}` } }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const fetchBounded = (url: string) => fetch(url, { signal: AbortSignal.timeout(10_000) });

async function admin(i: Instance, method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${i.admin}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until the session is in the shared store (A writes it within ~100 ms of first sight). */
const stored = (i: Instance, id: string, ms = 30_000) =>
  eventually(async () => (await admin(i, 'GET', `/admin/sessions/${id}`)).status === 200, ms, 10, `session ${id} listed by ${i.name}`);

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function tests(): void {
  t.test('two instances on one PostgreSQL schema', async (t) => {
    const c = await startCluster(t);

    await t.test('a session seen through A is listed by B', async (t) => {
      const s = await c.mint('alice');
      t.equal((await get(c.a, s.token)).status, 200);
      const listed = await eventually(
        async () => {
          const r = await admin(c.b, 'GET', '/admin/sessions?email=ALICE@corp.example');
          const sessions = r.body.sessions as Array<{ id: string; email: string; apps: string[] }>;
          return sessions.find((x) => x.id === s.jti);
        },
        30_000,
        20,
        'session listed by B',
      );
      t.match(listed, { id: s.jti, email: 'alice@corp.example', apps: ['app'] });
    });

    // How fast is bench's business; here: every revocation through B is heard by A (20 tries).
    await t.test('revoked through B, refused by A (20 tries)', async (t) => {
      const fromAnswer: number[] = [];
      const fromRequest: number[] = [];
      for (let i = 0; i < 20; i++) {
        const s = await c.mint(`user${i}`);
        t.equal((await get(c.a, s.token)).status, 200);
        await stored(c.b, s.jti);
        t.equal((await get(c.a, s.token)).status, 200, 'cached on A');
        const sent = performance.now();
        const del = await admin(c.b, 'DELETE', `/admin/sessions/${s.jti}`);
        const answered = performance.now();
        t.equal(del.status, 200);
        let status = 200;
        let refusedAt = 0;
        while (status === 200 && performance.now() - answered < 30_000) {
          status = (await get(c.a, s.token)).status;
          refusedAt = performance.now();
        }
        t.equal(status, 401, 'refused by A');
        fromAnswer.push(refusedAt - answered);
        fromRequest.push(refusedAt - sent);
      }
      const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, worst ${Math.max(...xs).toFixed(1)} ms`;
      t.comment(`propagation after B answered: ${fmt(fromAnswer)}`);
      t.comment(`from the DELETE request:      ${fmt(fromRequest)}`);
    });

    await t.test('PostgreSQL unreachable while traffic flows', async (t) => {
      const known = await Promise.all([0, 1, 2, 3].map((i) => c.mint(`steady${i}`)));
      for (const s of known) {
        t.equal((await get(c.a, s.token)).status, 200);
        t.equal((await get(c.b, s.token)).status, 200);
      }
      await stored(c.b, known[3]?.jti as string);

      const statuses = new Map<number, number>();
      let running = true;
      let outage = false;
      let answeredDuringOutage = 0;
      const traffic = Promise.all(
        known.map(async (s, n) => {
          for (let k = 0; running; k++) {
            const r = await get((n + k) % 2 ? c.a : c.b, s.token).catch(() => ({ status: 0 }));
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (outage) answeredDuringOutage++;
            await new Promise((r) => setTimeout(r, 10));
          }
        }),
      );
      t.teardown(() => void (running = false));
      await new Promise((r) => setTimeout(r, 300));

      c.proxy.cut();
      outage = true;
      const ready = await eventually(
        async () => {
          const r = await fetchBounded(`${c.a.admin}/readyz`);
          return r.status === 503 ? ((await r.json()) as { checks: Record<string, { ok: boolean; detail?: string }> }) : null;
        },
        10_000,
        50,
        '/readyz 503',
      );
      t.equal(ready.checks.store?.ok, false, `/readyz reports the store: ${ready.checks.store?.detail}`);
      const metrics = await eventually(
        async () => {
          const text = await (await fetchBounded(`${c.a.admin}/metrics`)).text();
          return /^gatehouse_audit_store_healthy 0$/m.test(text) ? text : null;
        },
        10_000,
        50,
        'metrics report the store unhealthy',
      );
      t.match(metrics, /^gatehouse_audit_queue_length [1-9]/m, 'records wait in the queue');

      const during = await Promise.all([0, 1, 2, 3].map((i) => c.mint(`outage${i}`)));
      for (const [i, s] of during.entries()) t.equal((await get(i % 2 ? c.a : c.b, s.token)).status, 200, 'a new session is let in');
      const revoke = await admin(c.b, 'DELETE', `/admin/sessions/${known[0]?.jti}`);
      t.equal(revoke.status, 503, 'a revocation while the database is down answers 503');
      t.match(revoke.body, { error: /audit store unavailable.*nothing was revoked/ });
      t.equal((await get(c.a, known[0]?.token as string)).status, 200, 'and nothing was revoked');
      // Traffic keeps flowing through the outage: a good number of requests answered while cut.
      await eventually(() => answeredDuringOutage >= 100, 60_000, 20, '100 requests answered during the outage');

      outage = false;
      c.proxy.restore();
      const restoredAt = performance.now();
      for (const s of during) await stored(c.b, s.jti);
      t.comment(`sessions first seen during the outage were in the store ${Math.round(performance.now() - restoredAt)} ms after it came back`);
      await eventually(async () => (await fetchBounded(`${c.a.admin}/readyz`)).status === 200, 30_000, 50, '/readyz 200 again');
      running = false;
      await traffic;

      const total = [...statuses.values()].reduce((x, y) => x + y, 0);
      t.same(Object.fromEntries(statuses), { 200: total }, `${total} requests during the outage, every one allowed`);
      t.ok(answeredDuringOutage >= 100, `traffic flowed throughout (${answeredDuringOutage} answered while the database was unreachable)`);
      const rows = await pgExec<{ n: number }>(`SELECT count(*)::int AS n FROM "${c.schema}".sessions WHERE id = ANY($1) AND revoked_at IS NULL`, [
        during.map((s) => s.jti),
      ]);
      t.equal(rows[0]?.n, 4, 'recorded, unrevoked, in the shared store');

      // The feed reconnected: a revocation through B reaches A again.
      await logged(c.a, 'revocation feed reconnected');
      t.equal((await admin(c.b, 'DELETE', `/admin/sessions/${known[0]?.jti}`)).status, 200);
      await eventually(async () => (await get(c.a, known[0]?.token as string)).status === 401, 30_000, 5, 'refused by A after the outage');

      for (const i of [c.a, c.b]) {
        t.equal(i.proc.exitCode, null, `${i.name} is still running`);
        const lines = i.lines.map((l) => JSON.parse(l) as { level: number; msg: string });
        t.same(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], `${i.name} logged no errors`);
        t.ok(lines.some((l) => l.msg.startsWith('revocation feed disconnected')), `${i.name} logged the outage`);
        t.ok(lines.some((l) => l.msg === 'audit store writable again'), `${i.name} logged the recovery`);
      }
    });
  });
}

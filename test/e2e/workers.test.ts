// `workers: 2`: two processes share the data port; a revocation made through worker 1's admin
// API is enforced by both on their very next requests.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { ADMIN_TOKEN, request, startUpstream } from '../helpers/stack.js';
import { eventually } from '../helpers/pg.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

t.test('workers share the port and every revocation', async (t) => {
  const up = await startUpstream(t);
  const dir = t.testdir({
    'gateway.yaml': `listen: 127.0.0.1:0\nworkers: 2\nadmin:\n  listen: 127.0.0.1:0\nsession:\n  cookie: gatehouse_session\n  keys: ./keys.json\n  secure_cookie: false\nstore:\n  sqlite: ./data/g.db\napps: ./apps\nlog:\n  level: info\n`,
    apps: { 'app.yaml': `name: app\nhosts: [app.test]\nupstream: ${up.url}\npolicies:\n  - name: staff\n    action: allow\n    include:\n      - group: staff\n` },
  });
  const proc = spawn(process.execPath, [CLI, 'start', '--config', 'gateway.yaml'], { cwd: dir, env: { ...process.env, GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
  t.teardown(() => proc.kill('SIGKILL'));
  const listening = await new Promise<Array<{ pid: number; data: string; admin?: string }>>((resolveAll, fail) => {
    const seen: Array<{ pid: number; data: string; admin?: string }> = [];
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`workers did not start: ${buf}`)), 120_000); // a safety net, not a speed check
    proc.stdout.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n').slice(0, -1)) {
        const m = JSON.parse(line) as { msg: string; pid: number; data: string; admin?: string };
        if (m.msg === 'gatehouse listening' && !seen.some((s) => s.pid === m.pid)) seen.push(m);
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
      if (seen.length === 2) {
        clearTimeout(timer);
        resolveAll(seen);
      }
    });
  });
  t.equal(new Set(listening.map((l) => l.pid)).size, 2, 'two worker processes');
  t.equal(new Set(listening.map((l) => l.data)).size, 1, 'sharing one data port');
  const admin = listening.find((l) => l.admin)?.admin as string;
  t.ok(admin, 'one of them serves the admin listener');
  const port = Number(new URL(listening[0]!.data).port);

  const keys = await loadOrCreateKeySet(join(dir, 'keys.json'));
  const alice = await mintSessionToken(keys, { sub: 'alice', email: 'alice@corp.example', groups: ['staff'], idp: 'local', amr: ['pwd'] }, 3_600_000);
  const cookie = { cookie: `gatehouse_session=${alice.token}` };
  for (let i = 0; i < 20; i++) t.equal((await request(port, { headers: cookie })).status, 200);

  // Worker 1 serves /metrics for both: the 20 requests (spread over the two) are all counted.
  const served = (text: string) => [...text.matchAll(/^gatehouse_requests_total\{[^}]*status="200"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const scrape = await eventually(async () => {
    const text = await (await fetch(`${admin}/metrics`)).text();
    return served(text) >= 20 ? text : null;
  }, 60_000, 50, "both workers' counts in /metrics");
  t.equal(served(scrape), 20, '/metrics counts the requests of every worker');
  t.match(scrape, /^gatehouse_audit_store_healthy 1$/m, 'a min-aggregated gauge stays 0/1');

  const del = await fetch(`${admin}/admin/sessions/${alice.jti}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(del.status, 200, 'revoked through worker 1');
  // Both workers must refuse: 20 consecutive requests (round-robin over both) all 401. How soon is
  // bench's business; the ceiling only stops a test that would otherwise never end.
  let refused = 0;
  await eventually(async () => {
    const r = await request(port, { headers: cookie });
    refused = r.status === 401 ? refused + 1 : 0;
    return refused >= 20;
  }, 60_000, 0, '20 consecutive refusals');
  t.equal(refused, 20, 'every worker refuses the revoked session');

  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'the primary exits 0 after its workers drain');
});

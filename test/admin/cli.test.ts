// The `gatehouse` admin commands, run as real processes (dist/cli.js) against the running admin API.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ADMIN_TOKEN, startAdminStack, type AdminStack, type Json } from './helpers.js';
import { gatehouse as run, type Run } from '../cli-run.js';

// Each command is a real node process: allow for a slow, busy machine.
t.setTimeout(300_000);

/** Asynchronous on purpose: the gateway answering the CLI runs in this process. */
function gatehouse(s: AdminStack | null, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base: Record<string, string> = s ? { GATEHOUSE_ADMIN_URL: s.gw.adminUrl, GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } : {};
  return run(args, { env: { ...base, ...env } });
}

t.test('sessions list, show and revoke; users', async (t) => {
  const s = await startAdminStack(t);
  const pat = await s.mint({ sub: 'u-pat', email: 'pat@corp.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', pat.token, { path: '/home' })).status, 200);

  const json = await gatehouse(s, ['sessions', 'list', '--json']);
  t.equal(json.code, 0, json.stderr);
  const listed = JSON.parse(json.stdout) as { sessions: Json[] };
  t.match(listed.sessions, [{ id: pat.jti, email: 'pat@corp.example', apps: ['wiki'] }]);

  const table = await gatehouse(s, ['sessions', 'list', '--email', 'pat@corp.example', '--active']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /^ID\s+EMAIL\s+IDP\s+GROUPS\s+LAST SEEN\s+EXPIRES\s+STATUS\s+APPS\n/);
  t.match(table.stdout, new RegExp(`${pat.jti}\\s+pat@corp\\.example\\s+corp\\s+staff\\s+\\d{4}-\\d{2}-\\d{2} [\\d:]+Z\\s+\\S+ \\S+\\s+active\\s+wiki`));

  const show = await gatehouse(s, ['sessions', 'show', pat.jti]);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /status:\s+active/);
  t.match(show.stdout, /APP\s+FIRST SEEN\s+LAST SEEN\s+REQUESTS\s+LAST PATH\nwiki .* 1\s+\/home/);

  const users = await gatehouse(s, ['users', 'list']);
  t.match(users.stdout, /pat@corp\.example\s+-\s+1\s+/);
  const user = await gatehouse(s, ['users', 'show', 'pat@corp.example', '--json']);
  t.match(JSON.parse(user.stdout), { email: 'pat@corp.example', active_sessions: 1 });

  const revoke = await gatehouse(s, ['sessions', 'revoke', pat.jti, '--reason', 'test']);
  t.equal(revoke.code, 0, revoke.stderr);
  t.match(revoke.stdout, new RegExp(`^revoked session ${pat.jti} at \\d{4}-`));
  t.equal((await s.get('wiki.test', pat.token)).status, 401);
  const shown = JSON.parse((await gatehouse(s, ['sessions', 'show', pat.jti, '--json'])).stdout) as Json;
  t.match(shown, { status: 'revoked', revocation: { reason: 'test', revoked_by: 'admin:env' } });

  const logout = await gatehouse(s, ['users', 'logout', 'pat@corp.example']);
  t.equal(logout.code, 0);
  t.match(logout.stdout, /revoked 0 sessions of pat@corp\.example/);

  const missing = await gatehouse(s, ['sessions', 'revoke', 'nope']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /HTTP 404: no session with id "nope"/);
});

t.test('decisions and policy-test', async (t) => {
  const s = await startAdminStack(t);
  const quinn = await s.mint({ sub: 'u-q', email: 'quinn@corp.example', groups: ['contractors'] });
  const denied = await s.get('wiki.test', quinn.token, { path: '/admin' });
  t.equal(denied.status, 403);
  const requestId = denied.headers['x-request-id'] as string;

  const one = await gatehouse(s, ['decisions', '--request-id', requestId]);
  t.equal(one.code, 0, one.stderr);
  t.match(one.stdout, /TIME\s+REQUEST ID\s+APP\s+EMAIL\s+OUTCOME\s+POLICY\s+REASON\s+REQUEST/);
  t.match(one.stdout, new RegExp(`${requestId}\\s+wiki\\s+quinn@corp\\.example\\s+deny\\s+no-contractors\\s+policy_deny\\s+GET wiki\\.test/admin`));
  t.match(one.stdout, /include\[0\] group/, 'the per-rule reasons are printed');
  const asJson = JSON.parse((await gatehouse(s, ['decisions', '--email', 'quinn@corp.example', '--since', '1h', '--json'])).stdout) as { decisions: Json[] };
  t.equal(asJson.decisions[0]?.request_id, requestId);
  const bad = await gatehouse(s, ['decisions', '--since', 'yesterday']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /HTTP 400: since must be a duration/);

  const byEmail = await gatehouse(s, ['policy-test', '--app', 'wiki', '--email', 'quinn@corp.example']);
  t.equal(byEmail.code, 0, byEmail.stderr);
  t.match(byEmail.stdout, /^wiki: DENY by policy "no-contractors" \(policy_deny\) → HTTP 403\n {2}deny "no-contractors": MATCHED\n {4}✓ include\[0\] group/);
  const byIdentity = await gatehouse(s, ['policy-test', '--app', 'wiki', '--identity', '{"email":"r@corp.example","groups":["admins"]}', '--json']);
  t.match(JSON.parse(byIdentity.stdout), { outcome: 'allow', policy: 'staff' });

  const file = join(s.dir, 'candidate.yaml');
  writeFileSync(file, 'name: wiki\nhosts: [wiki.test]\nupstream: http://127.0.0.1:1\npolicies:\n  - name: everyone-at-corp\n    action: allow\n    include: [{ email_domain: corp.example }]\n');
  const whatIf = await gatehouse(s, ['policy-test', '--app', 'wiki', '--file', file, '--since', '1h']);
  t.equal(whatIf.code, 0, whatIf.stderr);
  t.match(whatIf.stdout, /wiki: 1 identities seen since .*: 1 would gain access, 0 would lose it, 0 unchanged\n {2}\+ quinn@corp\.example \(allowed by "everyone-at-corp"\)/);

  writeFileSync(file, 'name: wiki\nhosts: [wiki.test]\nupstream: http://127.0.0.1:1\npolices: []\n');
  const invalid = await gatehouse(s, ['policy-test', '--file', file]);
  t.equal(invalid.code, 1);
  t.match(invalid.stderr, /HTTP 400: app_yaml is not a valid app file/);
  t.match(invalid.stderr, /4:1 unknown key "polices"/);
});

t.test('usage errors, authentication and an unreachable API', async (t) => {
  const s = await startAdminStack(t);
  const usage = await gatehouse(s, ['policy-test', '--app', 'wiki']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /give exactly one of --email, --session-id, --identity or --file/);
  t.equal((await gatehouse(s, ['sessions', 'frobnicate'])).code, 2);
  t.equal((await gatehouse(s, ['sessions', 'list', '--bogus'])).code, 2);
  const help = await gatehouse(s, ['decisions', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: gatehouse decisions/);

  const noToken = await gatehouse(s, ['sessions', 'list'], { GATEHOUSE_ADMIN_TOKEN: '' });
  t.equal(noToken.code, 1);
  t.match(noToken.stderr, /HTTP 401: missing or invalid admin token \(set GATEHOUSE_ADMIN_TOKEN\)/);
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const down = await gatehouse(null, ['sessions', 'list'], { GATEHOUSE_ADMIN_URL: `http://127.0.0.1:${port}`, GATEHOUSE_ADMIN_TOKEN: 'x' });
  t.equal(down.code, 1);
  t.match(down.stderr, `cannot reach the admin API at http://127.0.0.1:${port}: ECONNREFUSED`);
});

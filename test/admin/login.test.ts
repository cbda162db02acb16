// Sessions minted at sign-in (local users) are in the audit before their first proxied request,
// and an admin revocation ends them on the next request.
import t from 'tap';
import { installAdminApi } from '../../src/admin/install.js';
import { installLogin } from '../../src/login/install.js';
import { startStack, startUpstream } from '../helpers/stack.js';
import { Browser } from '../login/helpers/browser.js';
import { localSignIn } from '../login/helpers/flows.js';
import { usersYaml } from '../login/helpers/users.js';
import { ADMIN_TOKEN, type Json } from './helpers.js';
import { gatehouse } from '../cli-run.js';

// Sign-ins, then real CLI processes: allow for a slow, busy machine.
t.setTimeout(300_000);

t.test('a local sign-in is recorded at login with its full identity', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
    gateway: {
      identity_providers: [{ id: 'local', type: 'local_users', name: 'Team', file: './users.yaml' }],
      login: { lockout_threshold: 2, lockout_window: '1m', lockout_duration: '5m' },
    },
    files: { 'users.yaml': await usersYaml([{ email: 'uma@corp.example', password: 'uma-password-1', name: 'Uma', groups: ['staff'] }]) },
    extend: async (g) => {
      await installLogin(g);
      installAdminApi(g);
    },
  });
  const admin = async (method: string, path: string) => {
    const res = await fetch(`${s.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const b = new Browser({ 'wiki.test': s.port });
  const login = 'http://wiki.test/.gatehouse/login?rd=http%3A%2F%2Fwiki.test%2F';
  const post = await localSignIn(b, login, { email: 'uma@corp.example', password: 'uma-password-1' });
  t.equal(post.status, 303);

  const list = (await admin('GET', '/admin/sessions?email=uma@corp.example')).body.sessions as Json[];
  t.equal(list.length, 1, 'recorded at sign-in, before any proxied request');
  t.match(list[0], { kind: 'session', email: 'uma@corp.example', name: 'Uma', idp: 'local', groups: ['staff'], auth_methods: ['pwd'], apps: [] });
  const id = list[0]?.id as string;
  const detail = (await admin('GET', `/admin/sessions/${id}`)).body;
  t.match(detail, { identity: { issuer: 'gatehouse', sub: String, claims: { email: 'uma@corp.example' } }, network: { login_ip: '127.0.0.1', login_user_agent: 'gatehouse-test-browser/1.0' } });

  t.equal((await b.request('http://wiki.test/')).status, 200);
  t.equal((await admin('DELETE', `/admin/sessions/${id}`)).status, 200);
  const after = await b.request('http://wiki.test/', { headers: { accept: 'application/json' } });
  t.equal(after.status, 401, 'the revoked browser session is refused on its next request');

  // Sign-in lockouts are served by the login module on the same listener.
  for (let i = 0; i < 2; i++) await localSignIn(new Browser({ 'wiki.test': s.port }), login, { email: 'uma@corp.example', password: 'wrong' });
  const locks = await admin('GET', '/admin/login/lockouts');
  t.equal(locks.status, 200);
  t.match(locks.body.lockouts, [{ kind: 'user', key: 'uma@corp.example', until: String }]);

  // The same through the CLI (a real process, over the admin API).
  const cli = (...args: string[]) => gatehouse(args, { env: { GATEHOUSE_ADMIN_URL: s.adminUrl, GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
  const listed = await cli('login', 'lockouts');
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /^KIND\s+KEY\s+FAILURES\s+LOCKED UNTIL\nuser\s+uma@corp\.example\s+2\s+\d{4}-/);
  const lifted = await cli('login', 'lockouts', 'lift', 'user', 'uma@corp.example');
  t.equal(lifted.code, 0, lifted.stderr);
  t.equal(lifted.stdout, 'lifted the lockout of user uma@corp.example\n');
  t.equal((await cli('login', 'lockouts', 'list')).stdout, 'no lockouts\n');
  t.same((await admin('GET', '/admin/login/lockouts')).body.lockouts, [], 'lifted on the gateway');
  const again = await cli('login', 'lockouts', 'lift', 'user', 'uma@corp.example');
  t.equal(again.code, 1);
  t.match(again.stderr, /HTTP 404: no lockout for user uma@corp\.example/);
  const slip = await cli('login', 'lockouts', 'lift', 'someone');
  t.equal(slip.code, 2);
  t.match(slip.stderr, /^gatehouse login: expected: lift user\|ip KEY \(usage: gatehouse login lockouts/);
});

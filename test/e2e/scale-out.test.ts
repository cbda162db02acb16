// Several instances with no affinity at all: three gateway processes on one PostgreSQL schema behind
// a round-robin balancer that opens a new connection to the next instance for every request, so
// every step of a sign-in lands on a different instance than the step before. An OIDC sign-in
// (oidc-provider) and a local sign-in with TOTP complete; five wrong passwords lock the user on
// every instance, and an admin on any instance lifts it; a rotated key file copied to every instance
// is picked up without a restart, and tokens from either key verify everywhere during the rollout.
import t from 'tap';
import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { TOTP, Secret } from 'otpauth';
import { loadKeySet } from '../../src/auth/keys.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { startUpstream } from '../helpers/stack.js';
import { eventually } from '../helpers/pg.js';
import { needsPostgres } from '../helpers/machine.js';
import { CLUSTER_ADMIN_TOKEN, startScaleOutCluster, type ScaleOutCluster } from '../helpers/cluster.js';
import { logged } from '../helpers/instances.js';
import { Browser, parseForm, type Page } from '../login/helpers/browser.js';
import { localSignIn, startOidc, walkIdp } from '../login/helpers/flows.js';
import { startIdp } from '../login/helpers/idp.js';
import { usersYaml } from '../login/helpers/users.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
// Three gateway processes and an OIDC provider: on a busy 2-core machine more than tap's 120 s.
t.setTimeout(300_000);
const TOTP_SECRET = new Secret({ size: 20 }).base32;

if (await needsPostgres(t, 'the scale-out test (three instances behind a balancer on one PostgreSQL)')) await tests();

/** Each step on another instance than the one before. */
function hops(c: ScaleOutCluster, from: number): string[] {
  return c.lb.picks.slice(from);
}
const alternates = (steps: string[]) => steps.every((s, i) => i === 0 || s !== steps[i - 1]);

async function tests(): Promise<void> {
  const up = await startUpstream(t);
  const idp = await startIdp(t, {
    redirectUris: ['http://app.test/.gatehouse/callback'],
    accounts: { alice: { email: 'alice@corp.example', email_verified: true, groups: ['staff'] } },
  });
  const policies = [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }];
  const c = await startScaleOutCluster(t, {
    gateway: {
      identity_providers: [
        { id: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'groups'] },
        { id: 'local', type: 'local_users', file: './users.yaml' },
      ],
    },
    apps: {
      app: { name: 'app', hosts: ['app.test'], upstream: up.url, identity_providers: ['corp'], policies },
      ops: { name: 'ops', hosts: ['ops.test'], upstream: up.url, identity_providers: ['local'], policies },
    },
    files: {
      'users.yaml': await usersYaml([
        { email: 'tom@example.com', password: 'tom-password-1', groups: ['staff'], totp_secret: TOTP_SECRET },
        { email: 'bob@example.com', password: 'bob-password-1', groups: ['staff'] },
      ]),
    },
  });
  const hosts = { 'app.test': c.lb.port, 'ops.test': c.lb.port };
  const direct = (i: number) => new Browser({ 'app.test': c.instances[i]?.port as number, 'ops.test': c.instances[i]?.port as number });
  const admin = (i: number, method: string, path: string) =>
    fetch(`${c.instances[i]?.admin}${path}`, { method, headers: { authorization: `Bearer ${CLUSTER_ADMIN_TOKEN}` }, signal: AbortSignal.timeout(10_000) });

  t.test('an OIDC sign-in whose every step lands on another instance', async (t) => {
    const b = new Browser(hosts);
    const from = c.lb.picks.length;
    const auth = await startOidc(b, 'http://app.test/private?x=1');
    const done = await b.request(await walkIdp(b, auth, 'alice'));
    t.equal(done.status, 302, 'the callback signs in');
    t.equal(done.location?.href, 'http://app.test/private?x=1');
    const page = await b.request(done.location as URL);
    t.equal(page.status, 200);
    t.equal((JSON.parse(page.body) as { headers: Record<string, string> }).headers['x-gatehouse-user-email'], 'alice@corp.example');
    const steps = hops(c, from);
    t.equal(steps.length, 4, 'protected page, login, callback, page: four connections');
    t.ok(alternates(steps), `every step on another instance: ${steps.join(' → ')}`);
    t.not(steps[2], steps[1], 'the callback reached another instance than the one that started the flow');
  });

  t.test('a local sign-in with TOTP, every step on another instance', async (t) => {
    const b = new Browser(hosts);
    const from = c.lb.picks.length;
    const step1 = await localSignIn(b, 'http://ops.test/.gatehouse/login?rd=http%3A%2F%2Fops.test%2Fhome', { email: 'tom@example.com', password: 'tom-password-1' });
    t.equal(step1.status, 200, 'the password step passes');
    const form = parseForm(step1.body, step1.url);
    const code = new TOTP({ secret: Secret.fromBase32(TOTP_SECRET) }).generate();
    const done = await b.request(form.action, { form: { ...form.fields, totp: code } });
    t.equal(done.status, 303, 'the code step completes the sign-in');
    t.equal((await b.request(done.location as URL)).status, 200);
    const steps = hops(c, from);
    t.equal(steps.length, 4, 'form, password, code, page');
    t.ok(alternates(steps), `every step on another instance: ${steps.join(' → ')}`);

    // The code was spent in the database: on any other instance it is refused.
    const replayOn = c.instances.findIndex((i) => i.name !== steps[2]);
    const again = await localSignIn(direct(replayOn), 'http://ops.test/.gatehouse/login?rd=%2F', { email: 'tom@example.com', password: 'tom-password-1', totp: code });
    t.equal(again.status, 401, `the same code replayed on ${c.instances[replayOn]?.name} is refused`);
    t.equal((await admin(0, 'DELETE', '/admin/login/lockouts/user/tom@example.com')).status, 404, 'one failure locks nobody');
  });

  t.test('the fifth wrong password on one instance locks the user on the others', async (t) => {
    const b = new Browser(hosts);
    const page = (await b.navigate('http://ops.test/.gatehouse/login?rd=%2F')).pop() as Page;
    const { action, fields } = parseForm(page.body, page.url);
    const statuses: number[] = [];
    const from = c.lb.picks.length;
    for (let i = 0; i < 5; i++) statuses.push((await b.request(action, { form: { ...fields, email: 'bob@example.com', password: `wrong-${i}` } })).status);
    const steps = hops(c, from);
    t.same(statuses, [401, 401, 401, 401, 429], `failures counted across instances: ${steps.join(' → ')}`);
    t.equal(new Set(steps).size, 3, 'the five attempts reached all three instances');
    const lockedOn = steps[4] as string;
    for (const [i, inst] of c.instances.entries()) {
      if (inst.name === lockedOn) continue;
      const r = await localSignIn(direct(i), 'http://ops.test/.gatehouse/login?rd=%2F', { email: 'bob@example.com', password: 'bob-password-1' });
      t.equal(r.status, 429, `locked on ${inst.name} too, even with the right password`);
    }
    const listed = (await (await admin(1, 'GET', '/admin/login/lockouts')).json()) as { lockouts: Array<{ key: string }> };
    t.ok(listed.lockouts.some((l) => l.key === 'bob@example.com'), "B's admin API lists it");
    t.equal((await admin(2, 'DELETE', '/admin/login/lockouts/user/bob@example.com')).status, 200, "C's admin API lifts it");
    for (let i = 0; i < 3; i++) {
      const r = await localSignIn(direct(i), 'http://ops.test/.gatehouse/login?rd=%2F', { email: 'bob@example.com', password: 'bob-password-1' });
      t.equal(r.status, 303, `lifted on ${c.instances[i]?.name}`);
    }
  });

  t.test('a rotated key file copied to every instance: no restart, both keys verify everywhere', async (t) => {
    const old = await mintSessionToken(c.keys, { sub: 'carol', email: 'carol@corp.example', groups: ['staff'], idp: 'corp', amr: ['pwd'] }, 3600_000);
    await promisify(execFile)(process.execPath, [CLI, 'keys', 'generate', '--out', c.keyFile(0), '--rotate', '--activate-in', '8s']);
    const rotated = await loadKeySet(c.keyFile(0));
    const newKid = rotated.privateKeys[1]?.kid as string;
    const future = await loadKeySet(c.keyFile(0), Date.now() + 60_000);
    const fresh = await mintSessionToken(future, { sub: 'dave', email: 'dave@corp.example', groups: ['staff'], idp: 'corp', amr: ['pwd'] }, 3600_000);
    for (const i of [1, 2]) copyFileSync(c.keyFile(0), c.keyFile(i));
    await Promise.all(c.instances.map((i) => logged(i, 'session keys reloaded', 15_000)));
    const status = async (i: number, token: string) => (await direct(i).request('http://app.test/', { headers: { cookie: `gatehouse_session=${token}` } })).status;
    for (let i = 0; i < 3; i++) {
      t.equal(await status(i, old.token), 200, `the old key verifies on ${c.instances[i]?.name}`);
      t.equal(await status(i, fresh.token), 200, `the new key verifies on ${c.instances[i]?.name} before anyone signs with it`);
    }
    // Once active (8 s), the new key signs on every instance without a restart.
    const kid = await eventually(
      async () => {
        const b = new Browser(hosts);
        const done = await localSignIn(b, 'http://ops.test/.gatehouse/login?rd=%2F', { email: 'bob@example.com', password: 'bob-password-1' });
        const token = b.cookie('gatehouse_session', 'ops.test');
        return done.status === 303 && token && decodeProtectedHeader(token).kid === newKid ? token : null;
      },
      30_000,
      500,
      'sessions signed with the new key',
    );
    for (let i = 0; i < 3; i++) t.equal((await direct(i).request('http://ops.test/', { headers: { cookie: `gatehouse_session=${kid}` } })).status, 200);
    t.equal(c.lb.failed, 0, 'the balancer never ran out of instances');
  });
}

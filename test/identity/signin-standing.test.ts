// A user whom SCIM deactivated cannot get a NEW session either, whichever way they sign in: the
// local users form (the password is right) and a real OpenID Connect provider (oidc-provider,
// which still signs them in) both end on a 403 page saying why, no session cookie, and a decision
// recorded with reason scim_inactive. Reactivated through SCIM, they sign in again.
import t from 'tap';
import { installAdminApi } from '../../src/admin/install.js';
import type { Gateway } from '../../src/gateway.js';
import { installScim } from '../../src/identity/scim/install.js';
import { installLogin } from '../../src/login/install.js';
import { adminFetch, startStack, startUpstream } from '../helpers/stack.js';
import { Browser, type Page } from '../login/helpers/browser.js';
import { localSignIn, startOidc, walkIdp } from '../login/helpers/flows.js';
import { startIdp } from '../login/helpers/idp.js';
import { usersYaml } from '../login/helpers/users.js';
import { PATCH_URN, SCIM_TOKEN, USER_URN } from './scim/helpers.js';

const upstream = await startUpstream(t);
const idp = await startIdp(t, {
  redirectUris: ['http://sso.test/.gatehouse/callback'],
  accounts: { ann: { email: 'ann@corp.example', email_verified: true, groups: ['staff'] }, cara: { email: 'cara@corp.example', email_verified: true, groups: ['staff'] } },
});
const staff = [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }];
const stack = await startStack(t, {
  apps: {
    local: { name: 'local', hosts: ['local.test'], upstream: upstream.url, policies: staff, identity_providers: ['team'] },
    sso: { name: 'sso', hosts: ['sso.test'], upstream: upstream.url, policies: staff, identity_providers: ['corp'] },
  },
  gateway: {
    identity_providers: [
      { id: 'team', type: 'local_users', file: './users.yaml' },
      { id: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'] },
    ],
  },
  files: {
    'users.yaml': await usersYaml([
      { email: 'bob@corp.example', password: 'bob-password-1', groups: ['staff'] },
      { email: 'dan@corp.example', password: 'dan-password-1', groups: ['staff'] },
    ]),
  },
  extend: async (g: Gateway) => {
    await installLogin(g);
    installAdminApi(g);
    await installScim(g);
  },
});
const hosts = { 'local.test': stack.port, 'sso.test': stack.port, '127.0.0.1': idp.port };

async function scim(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.adminUrl}/scim/v2${path}`, { method, headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`SCIM ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}
const provision = (userName: string, active: boolean) => scim('POST', '/Users', { schemas: [USER_URN], userName, active });
const setActive = (id: unknown, active: boolean) =>
  scim('PATCH', `/Users/${String(id)}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active } }] });
const hasSession = (p: Page) => /gatehouse_session=[^;]/.test(String(p.headers['set-cookie'] ?? ''));

async function refusals(email: string): Promise<Array<Record<string, unknown>>> {
  await stack.gw.writer.flush();
  const res = await adminFetch(stack, `/admin/decisions?email=${encodeURIComponent(email)}&outcome=unauthenticated`);
  return ((await res.json()) as { decisions: Array<Record<string, unknown>> }).decisions.filter((d) => d.reason === 'scim_inactive');
}

async function oidcSignIn(login: string): Promise<Page> {
  const br = new Browser(hosts);
  const cb = await walkIdp(br, await startOidc(br, 'http://sso.test/'), login);
  return br.request(cb);
}

t.test('local users: the right password, but SCIM says active: false → 403, no session, recorded', async (t) => {
  const bob = await provision('bob@corp.example', true);
  await setActive(bob.id, false);
  const page = await localSignIn(new Browser(hosts), 'http://local.test/.gatehouse/login?rd=http%3A%2F%2Flocal.test%2F', { email: 'bob@corp.example', password: 'bob-password-1' });
  t.equal(page.status, 403, 'refused');
  t.match(page.body, /Sign-in refused/);
  t.match(page.body, /deactivated in the organization’s directory \(SCIM\)/, 'the page says why');
  t.notOk(hasSession(page), 'no session cookie');
  const [recorded] = await refusals('bob@corp.example');
  t.match(recorded, { outcome: 'unauthenticated', reason: 'scim_inactive', session_id: null, app: 'local', email: 'bob@corp.example' }, 'recorded as a decision');
  t.match((recorded?.reasons as string[])[0], /SCIM user bob@corp\.example is deactivated.*identity provider team/);
  t.equal((await stack.gw.store.listSessions({ email: 'bob@corp.example', limit: 10 })).items.length, 0, 'no session in the store');

  await setActive(bob.id, true);
  const again = await localSignIn(new Browser(hosts), 'http://local.test/.gatehouse/login?rd=http%3A%2F%2Flocal.test%2F', { email: 'bob@corp.example', password: 'bob-password-1' });
  t.equal(again.status, 303, 'reactivated: signed in');
  t.ok(hasSession(again));
});

t.test('OIDC (oidc-provider still signs Ann in): refused at the callback, recorded', async (t) => {
  const ann = await provision('ANN@corp.example', true);
  await setActive(ann.id, false);
  const page = await oidcSignIn('ann');
  t.equal(page.status, 403);
  t.match(page.body, /deactivated in the organization’s directory/);
  t.notOk(hasSession(page), 'no session cookie');
  t.match(String(page.headers['set-cookie']), /Max-Age=0/, 'the spent flow cookie is cleared');
  const recorded = await refusals('ann@corp.example');
  t.equal(recorded.length, 1);
  t.match(recorded[0], { app: 'sso', reason: 'scim_inactive' });
  t.match((recorded[0]?.reasons as string[])[0], /identity provider corp/);
});

t.test('unknown to SCIM, or active: sign-in as usual', async (t) => {
  t.equal((await oidcSignIn('cara')).status, 302, 'Cara was never provisioned: signed in');
  await provision('dan@corp.example', true);
  const dan = await localSignIn(new Browser(hosts), 'http://local.test/.gatehouse/login?rd=http%3A%2F%2Flocal.test%2F', { email: 'dan@corp.example', password: 'dan-password-1' });
  t.equal(dan.status, 303, 'an active SCIM user signs in');
  t.same(await refusals('dan@corp.example'), []);
});

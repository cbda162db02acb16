// A local_users file edited while people are signed in (a real gateway, a real sign-in through the
// form): after the hot reload the next request decides on the new groups; a user disabled or
// removed is refused; the identity history says users_file with the diff. The same person's
// session from another provider is left alone.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { installAdminApi } from '../../src/admin/install.js';
import { followUsersFiles } from '../../src/identity/users-file.js';
import { installLogin } from '../../src/login/install.js';
import { mintSessionToken } from '../../src/auth/session-token.js';
import { adminFetch, request, startStack, startUpstream } from '../helpers/stack.js';
import { eventually } from '../helpers/pg.js';
import { Browser } from '../login/helpers/browser.js';
import { localSignIn } from '../login/helpers/flows.js';
import { usersYaml, type TestUser } from '../login/helpers/users.js';

const ann: TestUser = { email: 'ann@example.com', password: 'ann-password-1', name: 'Ann', groups: ['staff', 'wiki-editors'] };
const bob: TestUser = { email: 'bob@example.com', password: 'bob-password-1', groups: ['staff'] };

t.test('edit, disable and remove a user in the users file: live sessions follow', async (t) => {
  const up = await startUpstream(t);
  const policy = (group: string) => [{ name: group, action: 'allow', include: [{ group }] }];
  const s = await startStack(t, {
    apps: {
      app: { name: 'app', hosts: ['app.test'], upstream: up.url, policies: policy('staff') },
      wiki: { name: 'wiki', hosts: ['app.test'], paths: ['/wiki'], upstream: up.url, policies: policy('wiki-editors') },
    },
    gateway: { identity_providers: [{ id: 'local', type: 'local_users', file: './users.yaml' }] },
    files: { 'users.yaml': await usersYaml([ann, bob]) },
    extend: async (g) => {
      installAdminApi(g);
      followUsersFiles((await installLogin(g)).registry, g.identityChanges, g.logger);
    },
  });
  const users = join(s.dir, 'users.yaml');
  const hosts = { 'app.test': s.port };
  const signIn = async (u: TestUser) => {
    const b = new Browser(hosts);
    t.equal((await localSignIn(b, 'http://app.test/.gatehouse/login?rd=%2F', { email: u.email, password: u.password })).status, 303);
    return b;
  };
  const a = await signIn(ann);
  const status = async (b: Browser, url: string) => (await b.request(url)).status;
  t.equal(await status(a, 'http://app.test/wiki'), 200);
  // Ann's session from another provider (an OIDC sign-in with the same email): not the users file's business.
  const other = await mintSessionToken(s.gw.services.keys, { sub: 'oidc-ann', email: ann.email, groups: ['wiki-editors'], idp: 'corp', amr: ['pwd'] }, 3_600_000);
  const otherWiki = async () => (await request(s.port, { host: 'app.test', path: '/wiki', headers: { cookie: `gatehouse_session=${other.token}` } })).status;
  t.equal(await otherWiki(), 200);

  await writeFile(users, await usersYaml([{ ...ann, groups: ['staff'] }, bob]));
  await eventually(async () => (await status(a, 'http://app.test/wiki')) === 403, 10_000, 50, 'wiki-editors removed: the next request is denied');
  t.equal(await status(a, 'http://app.test/'), 200, 'still staff');
  t.equal(await otherWiki(), 200, 'the OIDC session keeps its groups');

  await s.gw.writer.flush();
  const history = ((await (await adminFetch(s, `/admin/users/${ann.email}`)).json()) as { history: Array<Record<string, unknown>> }).history;
  t.match(history[0], { source: 'users_file', version: 1, groups: { added: [], removed: ['wiki-editors'] }, event_id: /^users_file:local:/ });

  const b = await signIn(bob);
  t.equal(await status(b, 'http://app.test/'), 200);
  const yaml = await usersYaml([{ ...ann, groups: ['staff'] }, bob]);
  await writeFile(users, yaml.replace('email: bob@example.com', 'email: bob@example.com\n    disabled: true'));
  await eventually(async () => (await status(b, 'http://app.test/')) !== 200, 10_000, 50, 'disabled: refused');
  t.equal((await localSignIn(new Browser(hosts), 'http://app.test/.gatehouse/login?rd=%2F', { email: bob.email, password: bob.password })).status, 401, 'a disabled user cannot sign in');

  await writeFile(users, await usersYaml([bob]));
  await eventually(async () => (await status(a, 'http://app.test/')) !== 200, 10_000, 50, 'removed: refused');
  t.equal(await otherWiki(), 200, "the same person's OIDC session stays");
  await s.gw.writer.flush();
  const after = ((await (await adminFetch(s, `/admin/users/${ann.email}`)).json()) as { history: Array<Record<string, unknown>> }).history;
  t.match(after[0], { source: 'users_file', revoked: { reason: 'removed from the users file' } });
});

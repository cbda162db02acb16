// Sign-out that is real: the sessions of one sign-in (the login host's, the app hosts it handed off
// to, a later sign-in in the same browser) share a login id and end together; hosts signed in to
// separately are named on the page and end with "Sign out everywhere". A revoked session sent back
// to sign in is told why.
import t from 'tap';
import { startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { Browser, parseForm, type Page } from './helpers/browser.js';
import { usersYaml } from './helpers/users.js';

const upstream = await startUpstream(t);
const app = (name: string, host: string) => ({ name, hosts: [host], upstream: upstream.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] });
const users = await usersYaml([{ email: 'ann@example.com', password: 'ann-password-1', groups: ['staff'] }]);
const localUsers = [{ id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' }];

const last = (pages: Page[]) => pages[pages.length - 1] as Page;

/** Signs in through whatever form the flow shows; returns the final page (the app's answer). */
async function signIn(b: Browser, url: string): Promise<Page> {
  const form = last(await b.navigate(url));
  if (form.status !== 200 || !/name="password"/.test(form.body)) throw new Error(`expected the sign-in form at ${form.url.href}, got ${form.status}`);
  const { action, fields } = parseForm(form.body, form.url);
  return last(await b.navigate(action, { form: { ...fields, email: 'ann@example.com', password: 'ann-password-1' } }));
}

/** Opens the sign-out page on `host` and presses its first (or its "everywhere") button. */
async function signOut(b: Browser, host: string, everywhere = false): Promise<{ confirm: Page; done: Page }> {
  const confirm = await b.request(`http://${host}/.gatehouse/logout`);
  const forms = [...confirm.body.matchAll(/<form method="post" action="([^"]*)">/g)].map((m) => (m[1] as string).replace(/&amp;/g, '&'));
  const action = everywhere ? forms.find((a) => a.includes('scope=all')) : forms[0];
  if (!action) throw new Error(`no sign-out form${everywhere ? ' for everywhere' : ''}: ${confirm.body.slice(0, 200)}`);
  const done = await b.request(new URL(action, `http://${host}/`), { method: 'POST', headers: { origin: `http://${host}` } });
  return { confirm, done };
}

t.test('with a login host: one sign-out ends the sessions of the sign-in on every host', async (t) => {
  const stack = await startStack(t, {
    apps: { login: app('login', 'login.test'), shop: app('shop', 'shop.test'), blog: app('blog', 'blog.test'), wiki: app('wiki', 'wiki.test') },
    gateway: { login: { host: 'login.test' }, identity_providers: localUsers },
    files: { 'users.yaml': users },
    extend: async (g) => {
      await installLogin(g);
    },
  });
  const p = stack.port;
  const b = new Browser({ 'login.test': p, 'shop.test': p, 'blog.test': p, 'wiki.test': p });
  t.equal((await signIn(b, 'http://shop.test/cart')).status, 200, 'signed in on the shop');
  t.equal(last(await b.navigate('http://blog.test/post')).status, 200, 'the blog: handed the same sign-in, no form');
  // Sign in again in the same browser (as someone else, from a 403 page): a new session, same sign-in.
  t.equal((await signIn(b, 'http://wiki.test/.gatehouse/login?rd=http%3A%2F%2Fwiki.test%2F&switch=1')).status, 200, 'signed in again for the wiki');
  const ids = ['shop.test', 'blog.test', 'wiki.test'].map((h) => b.cookie('gatehouse_session', h));
  t.equal(new Set(ids).size, 2, 'two sessions: the first sign-in (shop, blog) and the second (wiki)');

  const { confirm, done } = await signOut(b, 'shop.test');
  t.match(confirm.body, /Signing out ends this sign-in on every site that uses it: 2 sessions \(<strong>blog<\/strong>, <strong>shop<\/strong>, <strong>wiki<\/strong>\)/, 'the apps it was used on');
  t.notMatch(confirm.body, /Sign out everywhere/, 'nothing else to end');
  t.equal(done.status, 200);
  t.match(done.body, /This sign-in ended: 2 sessions/);

  for (const host of ['blog.test', 'wiki.test', 'login.test']) {
    const r = await b.request(`http://${host}/page`);
    t.equal(r.status, 302, `${host}: signed out too`);
    t.equal(r.location?.searchParams.get('why'), 'revoked', 'sent to sign in, with the reason');
  }
  const again = last(await b.navigate('http://blog.test/page'));
  t.match(again.body, /Your session was ended: you signed out, or an administrator signed you out/, 'the sign-in page says why');
  t.notMatch(again.body, /why=/, 'the reason is a sentence, not the parameter echoed');
  const odd = await b.request('http://login.test/.gatehouse/login?rd=http%3A%2F%2Flogin.test%2F&why=%3Cscript%3E');
  t.notMatch(odd.body, /&lt;script|<script>/, 'an unknown reason shows nothing');
});

t.test('each host signing in on its own: the page names what sign-out ends, and "everywhere" ends the rest', async (t) => {
  const stack = await startStack(t, {
    apps: { shop: app('shop', 'shop.test'), blog: app('blog', 'blog.test') },
    gateway: { identity_providers: localUsers },
    files: { 'users.yaml': users },
    extend: async (g) => {
      await installLogin(g);
    },
  });
  const p = stack.port;
  const b = new Browser({ 'shop.test': p, 'blog.test': p });
  t.equal((await signIn(b, 'http://shop.test/')).status, 200);
  t.equal((await signIn(b, 'http://blog.test/')).status, 200, 'the blog asks again: its own sign-in');

  const { confirm, done } = await signOut(b, 'shop.test');
  t.match(confirm.body, /ends this sign-in on every site that uses it: 1 session \(<strong>shop<\/strong>\)/);
  t.match(confirm.body, /also signed in 1 other time \(<strong>blog<\/strong>\)/, 'the other host is named');
  t.match(done.body, /This sign-in ended: 1 session \(<strong>shop<\/strong>\)/);
  t.equal((await b.request('http://blog.test/')).status, 200, 'the blog, signed in separately, stays signed in');

  t.equal((await signIn(b, 'http://shop.test/')).status, 200, 'back on the shop');
  const everywhere = await signOut(b, 'blog.test', true);
  t.match(everywhere.confirm.body, /Sign out everywhere \(2 sessions\)/);
  t.match(everywhere.done.body, /Every session of this account ended: 2 sessions/);
  t.equal((await b.request('http://shop.test/')).status, 302, 'the shop is signed out too');
  t.equal((await b.request('http://blog.test/')).status, 302);

  const crossSite = await b.request('http://shop.test/.gatehouse/logout?scope=all', { method: 'POST', headers: { origin: 'https://evil.example' } });
  t.equal(crossSite.status, 403, 'a cross-site sign-out is refused');
});

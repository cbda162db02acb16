// One sign-in for apps on unrelated domains: everything signs in on login.host (one IdP redirect
// URI); apps under session.cookie_domain share the cookie, other domains get the session through a
// single-use, browser-bound code — never the token in a URL.
import { createHash } from 'node:crypto';
import t from 'tap';
import { startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { Handoffs } from '../../src/login/handoff.js';
import { MemorySignInState } from '../../src/login/memory-state.js';
import { Sealer } from '../../src/login/seal.js';
import { loadOrCreateKeySet } from '../../src/auth/keys.js';
import { join } from 'node:path';
import type { RequestContext } from '../../src/context.js';
import { Browser, type Page } from './helpers/browser.js';
import { walkIdp } from './helpers/flows.js';
import { startIdp } from './helpers/idp.js';

const upstream = await startUpstream(t);
const idp = await startIdp(t, {
  redirectUris: ['http://login.corp.test/.gatehouse/callback'],
  accounts: { alice: { email: 'alice@corp.example', email_verified: true, groups: ['staff'] } },
});
const app = (name: string, host: string) => ({ name, hosts: [host], upstream: upstream.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] });
const stack = await startStack(t, {
  apps: {
    login: app('login', 'login.corp.test'),
    wiki: app('wiki', 'wiki.corp.test'),
    shop: app('shop', 'shop.other.test'),
    blog: app('blog', 'blog.else.test'),
  },
  gateway: {
    session: { cookie: 'gatehouse_session', keys: './keys/session.jwks.json', secure_cookie: false, cookie_domain: 'corp.test' },
    login: { host: 'login.corp.test' },
    identity_providers: [{ id: 'corp', type: 'oidc', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'groups'] }],
  },
  extend: async (g) => {
    await installLogin(g);
  },
});
const port = stack.port;
const hosts = { 'login.corp.test': port, 'wiki.corp.test': port, 'shop.other.test': port, 'blog.else.test': port };

t.test('an app on an unrelated domain: sign in on the login host, session handed over by code', async (t) => {
  const b = new Browser(hosts);
  const seen: Page[] = [];
  const go = async (u: URL | string) => {
    const p = await b.request(u);
    seen.push(p);
    return p;
  };
  const toLogin = await go('http://shop.other.test/cart?item=7');
  const toLoginHost = await go(toLogin.location as URL);
  t.equal(toLoginHost.location?.host, 'login.corp.test', 'sent to the login host');
  t.equal(toLoginHost.location?.searchParams.get('rd'), 'http://shop.other.test/cart?item=7');
  t.match(String(toLoginHost.headers['set-cookie']), /gatehouse_flow=/, 'the app host binds this browser');
  const toIdp = await go(toLoginHost.location as URL);
  t.equal(toIdp.location?.searchParams.get('redirect_uri'), 'http://login.corp.test/.gatehouse/callback', 'one redirect URI for every app');

  const done = await go(await walkIdp(b, toIdp.location as URL, 'alice'));
  t.equal(done.location?.host, 'shop.other.test');
  t.equal(done.location?.pathname, '/.gatehouse/handoff');
  t.match(String(done.headers['set-cookie']), /gatehouse_session=[^;]+;.*Domain=corp\.test/i, 'the login host keeps a session for the shared domain');
  const code = done.location?.searchParams.get('code') as string;

  const handed = await go(done.location as URL);
  t.equal(handed.status, 302);
  t.equal(handed.location?.href, 'http://shop.other.test/cart?item=7');
  t.match(String(handed.headers['set-cookie']), /gatehouse_session=/);
  t.notMatch(String(handed.headers['set-cookie']), /Domain=/i, 'host-only on the unrelated domain');
  t.equal((await go(handed.location as URL)).status, 200, 'signed in on the shop');

  const token = b.cookie('gatehouse_session', 'shop.other.test') as string;
  t.ok(token);
  t.notOk(seen.some((p) => (p.headers.location ?? '').includes(token) || p.url.href.includes(token)), 'the token never travels in a URL');

  const replay = await b.request(`http://shop.other.test/.gatehouse/handoff?code=${code}`);
  t.equal(replay.status, 400, 'the code is single use');

  t.equal((await b.request('http://wiki.corp.test/page')).status, 200, 'a subdomain of cookie_domain shares the cookie: no sign-in');

  const tokensBefore = idp.tokenRequests;
  const pages = await b.navigate('http://blog.else.test/post');
  const last = pages[pages.length - 1] as Page;
  t.equal(last.status, 200, 'another unrelated domain: signed in without seeing the IdP again');
  t.equal(last.url.host, 'blog.else.test');
  t.equal(idp.tokenRequests, tokensBefore);
  t.notOk(pages.some((p) => p.url.port === String(idp.port)), 'never went to the IdP');
});

t.test('a handoff code is bound to the browser and the host it was made for', async (t) => {
  const victim = new Browser(hosts);
  const attacker = new Browser(hosts);
  const pages = await attacker.navigate('http://shop.other.test/', { stopAt: (u) => u.port === String(idp.port) });
  const toIdp = (pages[pages.length - 1] as Page).location as URL;
  const done = await attacker.request(await walkIdp(attacker, toIdp, 'alice'));
  const handoff = done.location as URL;
  t.equal(handoff.pathname, '/.gatehouse/handoff');
  const planted = await victim.request(handoff);
  t.equal(planted.status, 400, "a code planted in another browser does not log it in as the attacker");
  t.notMatch(String(planted.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);

  const again = await attacker.navigate('http://blog.else.test/', { stopAt: (u) => u.pathname === '/.gatehouse/handoff' });
  const code = (again[again.length - 1] as Page).location?.searchParams.get('code');
  t.ok(code);
  const wrongHost = await attacker.request(`http://shop.other.test/.gatehouse/handoff?code=${code}`);
  t.equal(wrongHost.status, 400, 'a code made for blog does not work on shop');
});

t.test('handoff codes expire after 60 s', async (t) => {
  let now = 1_000_000;
  const keys = await loadOrCreateKeySet(join(t.testdir({}), 'keys.json'));
  const h = new Handoffs(new MemorySignInState(), new Sealer(() => keys), () => now);
  const ctx = { host: 'shop.other.test', req: { headers: { cookie: `gatehouse_flow=${'a'.repeat(43)}` } } } as unknown as RequestContext;
  const binding = createHash('sha256').update('a'.repeat(43)).digest('base64url');
  const fresh = await h.issue({ token: 't', expiresAt: 0, host: 'shop.other.test', rd: 'http://shop.other.test/', binding });
  t.ok(await h.redeem(ctx, fresh), 'redeemed within the minute');
  const stale = await h.issue({ token: 't', expiresAt: 0, host: 'shop.other.test', rd: 'http://shop.other.test/', binding });
  now += 60_001;
  t.equal(await h.redeem(ctx, stale), null, 'expired');
});

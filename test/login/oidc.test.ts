// The OIDC sign-in against a real provider (oidc-provider on 127.0.0.1): the whole walk from a
// protected page to the upstream seeing the identity, then every way a callback can be abused.
import t from 'tap';
import { createHash } from 'node:crypto';
import { startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { Browser } from './helpers/browser.js';
import { startOidc, walkIdp } from './helpers/flows.js';
import { startIdp } from './helpers/idp.js';

const upstream = await startUpstream(t);
const idp = await startIdp(t, {
  redirectUris: ['http://app.test/.gatehouse/callback'],
  postLogoutRedirectUris: ['http://app.test/.gatehouse/signed-out'],
  accounts: {
    alice: { email: 'Alice@Corp.Example', email_verified: true, name: 'Alice Liddell', groups: ['staff', 'wiki-editors'] },
    mallory: { email: 'mallory@corp.example', email_verified: false, groups: ['staff'] },
  },
});
const stack = await startStack(t, {
  apps: {
    app: { name: 'app', hosts: ['app.test'], upstream: upstream.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] },
  },
  gateway: {
    identity_providers: [
      { id: 'corp', type: 'oidc', name: 'Corp SSO', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'] },
    ],
  },
  extend: async (g) => {
    await installLogin(g);
  },
});
const hosts = { 'app.test': stack.port };
const COOKIE = 'gatehouse_session';

t.test('protected page → login → IdP login and consent → callback → the page first asked for', async (t) => {
  const b = new Browser(hosts);
  const first = await b.request('http://app.test/private/page?x=1&y=2');
  t.equal(first.status, 302);
  t.equal(first.location?.pathname, '/.gatehouse/login');
  t.equal(first.location?.searchParams.get('rd'), 'http://app.test/private/page?x=1&y=2');

  const toIdp = await b.request(first.location as URL);
  t.equal(toIdp.status, 302);
  const auth = toIdp.location as URL;
  t.equal(auth.origin, idp.issuer, 'sent to the IdP');
  t.equal(auth.searchParams.get('code_challenge_method'), 'S256', 'PKCE');
  t.ok(auth.searchParams.get('state') && auth.searchParams.get('nonce'), 'state and nonce');
  t.equal(auth.searchParams.get('redirect_uri'), 'http://app.test/.gatehouse/callback');
  const flowCookie = String(toIdp.headers['set-cookie']);
  t.match(flowCookie, /^gatehouse_oidc_[\w-]{22}=[^;]+;.*HttpOnly/i, 'the flow travels sealed in a cookie of its own');
  t.match(flowCookie, /Max-Age=600;.*SameSite=Lax/i, 'for 10 minutes at most, sent on the IdP redirect back');
  t.notOk(flowCookie.includes(auth.searchParams.get('state') as string), 'the state is not readable in it');

  const cb = await walkIdp(b, auth, 'alice');
  const done = await b.request(cb);
  t.equal(done.status, 302);
  t.equal(done.location?.href, 'http://app.test/private/page?x=1&y=2', 'back to the page first asked for');
  const setCookie = String(done.headers['set-cookie']);
  t.match(setCookie, /gatehouse_session=[^;]+/);
  t.match(setCookie, /HttpOnly/i);
  t.match(setCookie, /SameSite=Lax/i);
  t.match(setCookie, /Path=\//);
  t.notMatch(done.location?.href ?? '', /eyJ/, 'no token in the URL');

  const page = await b.request(done.location as URL);
  t.equal(page.status, 200);
  const seen = JSON.parse(page.body) as { headers: Record<string, string> };
  t.equal(seen.headers['x-gatehouse-user-email'], 'alice@corp.example', 'upstream sees the email (from userinfo)');
  t.equal(seen.headers['x-gatehouse-user-groups'], 'staff,wiki-editors');
  t.equal(seen.headers['x-gatehouse-user-id'], 'alice');

  const who = await b.request('http://app.test/.gatehouse/identity?format=json');
  t.equal(who.status, 200);
  const id = JSON.parse(who.body) as Record<string, unknown> & { at_sign_in: Record<string, unknown> };
  t.equal(id.email, 'alice@corp.example');
  t.equal(id.name, 'Alice Liddell');
  t.equal(id.idp, 'corp');
  t.same(id.amr, ['oidc'], 'the IdP sent no amr: "oidc", never more than it said');
  t.same(id.groups, ['staff', 'wiki-editors']);
  t.equal(id.at_sign_in.client_ip, '127.0.0.1');
  t.equal(id.at_sign_in.user_agent, 'gatehouse-test-browser/1.0');
  t.notOk(who.body.includes(b.cookie(COOKIE, 'app.test') as string), 'the identity page never shows the token');

  const html = await b.request('http://app.test/.gatehouse/identity');
  t.equal(html.status, 200);
  t.match(html.headers['content-type'], /text\/html/);
  t.match(html.headers['content-security-policy'], /default-src 'none'/);
  t.equal(html.headers['cache-control'], 'no-store');
  t.match(html.body, /alice@corp\.example/);
});

t.test('a replayed callback (same code, same state) is refused', async (t) => {
  const b = new Browser(hosts);
  const cb = await walkIdp(b, await startOidc(b, 'http://app.test/'), 'alice');
  t.equal((await b.request(cb)).status, 302, 'first use signs in');
  const replay = await b.request(cb);
  t.equal(replay.status, 400, 'the state was single use, even in the browser that started it');
  t.notMatch(String(replay.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);
});

t.test('a forged state is refused, and so is a real state from another browser', async (t) => {
  const b = new Browser(hosts);
  const forged = await b.request('http://app.test/.gatehouse/callback?code=abc&state=forged-state');
  t.equal(forged.status, 400);
  t.notMatch(String(forged.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);

  const victim = new Browser(hosts);
  const attacker = new Browser(hosts);
  const cb = await walkIdp(attacker, await startOidc(attacker, 'http://app.test/'), 'alice');
  const planted = await victim.request(cb);
  t.equal(planted.status, 400, 'login CSRF: the state is bound to the browser that started it');
  t.notMatch(String(planted.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);
  t.match(planted.body, /started in another browser/);
});

t.test('a swapped or replayed flow cookie is refused with a clear page', async (t) => {
  const b = new Browser(hosts);
  const auth1 = await startOidc(b, 'http://app.test/one');
  const cb1 = await walkIdp(b, auth1, 'alice');
  const auth2 = await startOidc(b, 'http://app.test/two');
  const name = (a: URL) => `gatehouse_oidc_${createHash('sha256').update(a.searchParams.get('state') as string).digest('base64url').slice(0, 22)}`;
  const sealed1 = b.cookie(name(auth1), 'app.test') as string;
  const sealed2 = b.cookie(name(auth2), 'app.test') as string;
  t.ok(sealed1 && sealed2 && sealed1 !== sealed2, 'two tabs, two flows, two cookies');

  b.setCookie(name(auth1), sealed2, 'app.test');
  const swapped = await b.request(cb1);
  t.equal(swapped.status, 400, "another flow's cookie under this flow's name does not open");
  t.match(swapped.body, /Sign-in failed/);
  t.notMatch(String(swapped.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);

  b.setCookie(name(auth1), sealed1, 'app.test');
  const done = await b.request(cb1);
  t.equal(done.status, 302, 'the right cookie signs in');
  t.equal(done.location?.pathname, '/one');
  t.match(String(done.headers['set-cookie']), new RegExp(`${name(auth1)}=;.*Max-Age=0`), 'and is cleared');

  b.setCookie(name(auth1), sealed1, 'app.test');
  const replay = await b.request(cb1);
  t.equal(replay.status, 400, 'a copy of the cookie, replayed with the callback, is refused');
  t.match(replay.body, /already completed/);
  t.notMatch(String(replay.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);
});

t.test('a code already redeemed is refused by the IdP even with a fresh state', async (t) => {
  const b = new Browser(hosts);
  const cb1 = await walkIdp(b, await startOidc(b, 'http://app.test/'), 'alice');
  t.equal((await b.request(cb1)).status, 302);
  b.clearCookies();
  const auth2 = await startOidc(b, 'http://app.test/');
  const reused = new URL(cb1);
  reused.searchParams.set('state', auth2.searchParams.get('state') as string);
  const before = idp.tokenRequests;
  const r = await b.request(reused);
  t.equal(r.status, 400);
  t.equal(idp.tokenRequests, before + 1, 'the gateway tried the code and the IdP refused it');
  t.notMatch(String(r.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);
});

t.test('an ID token carrying another nonce is refused', async (t) => {
  // An attacker who can inject an authorization request with their own nonce (keeping our state and
  // PKCE challenge) gets a code whose ID token carries that nonce: the exchange succeeds, the ID
  // token check does not.
  const b = new Browser(hosts);
  const auth = await startOidc(b, 'http://app.test/');
  auth.searchParams.set('nonce', 'attacker-chosen-nonce');
  const cb = await walkIdp(b, auth, 'alice');
  const before = idp.tokenRequests;
  const r = await b.request(cb);
  t.equal(r.status, 400);
  t.equal(idp.tokenRequests, before + 1, 'the code exchange happened; the nonce check refused the ID token');
  t.notMatch(String(r.headers['set-cookie'] ?? ''), /gatehouse_session=[^;]/);
});

t.test('an IdP that says email_verified: false does not get a session', async (t) => {
  const b = new Browser(hosts);
  const r = await b.request(await walkIdp(b, await startOidc(b, 'http://app.test/'), 'mallory'));
  t.equal(r.status, 403);
  t.match(r.body, /not verified/);
});

t.test('logout revokes the session everywhere, clears the cookie and ends the IdP session', async (t) => {
  const b = new Browser(hosts);
  const done = await b.request(await walkIdp(b, await startOidc(b, 'http://app.test/'), 'alice'));
  const token = b.cookie(COOKIE, 'app.test') as string;
  t.ok(token);
  t.equal((await b.request(done.location as URL)).status, 200);
  t.equal((await b.request('http://app.test/again')).status, 200, 'served from the verified-token cache');

  const page = await b.request('http://app.test/.gatehouse/logout');
  t.equal(page.status, 200, 'GET only shows the Sign out button');
  t.match(page.body, /<form method="post" action="\/\.gatehouse\/logout"><button type="submit">Sign out<\/button><\/form>/);
  t.match(page.body, /alice/);
  t.equal((await b.request('http://app.test/again')).status, 200, 'a GET (a link from any site) signs nobody out');
  const forged = await b.request('http://app.test/.gatehouse/logout', { method: 'POST', headers: { origin: 'http://evil.test' } });
  t.equal(forged.status, 403, 'a sign-out posted from another site is refused');
  t.equal((await b.request('http://app.test/again')).status, 200, 'and the session goes on');

  const out = await b.request('http://app.test/.gatehouse/logout', { method: 'POST', headers: { origin: 'http://app.test' } });
  t.equal(out.status, 303, 'the POST is answered with a See Other');
  const end = out.location as URL;
  t.equal(`${end.origin}${end.pathname}`, `${idp.issuer}/session/end`, "to the IdP's end-session endpoint");
  t.equal(end.searchParams.get('post_logout_redirect_uri'), 'http://app.test/.gatehouse/signed-out');
  t.match(String(out.headers['set-cookie']), /gatehouse_session=;.*Max-Age=0/i);
  t.equal(b.cookie(COOKIE, 'app.test'), undefined);

  const thief = new Browser(hosts);
  thief.setCookie(COOKIE, token, 'app.test');
  const nav = await thief.request('http://app.test/again');
  t.equal(nav.status, 302, 'the old cookie is useless: back to sign-in');
  const api = await thief.request('http://app.test/again', { headers: { accept: 'application/json' } });
  t.equal(api.status, 401);
  t.match(api.body, /revoked/);

  const rec = await stack.gw.store.getSession(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).jti);
  t.equal(rec?.revokedBy, 'user');
  t.equal(rec?.revokeReason, 'logout');
});

t.test('the IdP being down gives a clear page, not a crash', async (t) => {
  const down = await startStack(t, {
    apps: { app: { name: 'app', hosts: ['app.test'], upstream: upstream.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
    gateway: { identity_providers: [{ id: 'corp', type: 'oidc', issuer: 'http://127.0.0.1:9/', client_id: 'x', client_secret: 'y' }] },
    extend: async (g) => {
      await installLogin(g);
    },
  });
  const b = new Browser({ 'app.test': down.port });
  const r = await b.request('http://app.test/.gatehouse/login?rd=/');
  t.equal(r.status, 503);
  t.match(r.body, /cannot be reached/);
});

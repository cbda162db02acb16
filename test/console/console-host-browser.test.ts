// The console on admin.console_host, behind Gatehouse's own sign-in: console_policies make one
// person an operator (may revoke) and another a viewer (no button; the POST refused server-side);
// someone in neither gets the usual 403. The session list shows a revocation made elsewhere
// without a reload.
import t from 'tap';
import { startStack, startUpstream, adminFetch } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { installAdminApi } from '../../src/admin/install.js';
import { installConsole } from '../../src/console/install.js';
import { usersYaml } from '../login/helpers/users.js';
import { needsChromium } from '../helpers/machine.js';
import { axeSerious, launch } from './helpers.js';
import type { Browser, Page } from 'playwright-core';

t.setTimeout(300_000);

if (needsChromium(t, 'the console_host browser test')) {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>wiki</title><h1 id="hello">wiki</h1>');
  });
  const people = [
    { email: 'sam@example.com', password: 'sam-password-1', groups: ['sre', 'staff'] },
    { email: 'hana@example.com', password: 'hana-password-1', groups: ['helpdesk', 'staff'] },
    { email: 'dana@example.com', password: 'dana-password-1', groups: ['staff'] },
  ];
  const stack = await startStack(t, {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.localhost'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
    gateway: {
      admin: {
        listen: '127.0.0.1:0',
        console_host: 'console.localhost',
        console_policies: {
          operator: [{ name: 'sre', action: 'allow', include: [{ group: 'sre' }] }],
          viewer: [{ name: 'helpdesk', action: 'allow', include: [{ group: 'helpdesk' }] }],
        },
      },
      identity_providers: [{ id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' }],
    },
    files: { 'users.yaml': await usersYaml(people) },
    extend: async (g) => {
      await installLogin(g);
      installAdminApi(g);
      installConsole(g);
    },
  });
  const browser = await launch(t);
  const consoleUrl = (path: string) => `http://console.localhost:${stack.port}${path}`;
  const wikiUrl = `http://wiki.localhost:${stack.port}/`;

  /** Signs `email` in at `url`: in a browser of their own, or on `page` (the same browser, another host or a session since revoked). */
  async function signIn(b: Browser, email: string, url: string, width = 1280, on?: Page): Promise<Page> {
    let page = on;
    if (!page) {
      const ctx = await b.newContext({ viewport: { width, height: 900 } });
      t.teardown(() => ctx.close());
      page = await ctx.newPage();
    }
    await page.goto(url);
    await page.fill('#email', email);
    await page.fill('#password', people.find((p) => p.email === email)?.password ?? '');
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/.gatehouse/')), page.click('button[type=submit]')]);
    return page;
  }

  let dana: Page;
  t.test('a user in neither console policy gets the usual 403', async (t) => {
    dana = await signIn(browser, 'dana@example.com', wikiUrl);
    t.equal(await dana.textContent('#hello'), 'wiki', 'dana uses the wiki');
    // Her browser holds no session for the console's host (no cookie_domain): she signs in there.
    const refused = await signIn(browser, 'dana@example.com', consoleUrl('/console/sessions'), 1280, dana);
    t.match(await refused.textContent('h1'), /Access denied/, 'signed in, the console refuses her');
    const r = await refused.reload();
    t.equal(r?.status(), 403, 'with a 403');
  });

  t.test('a viewer sees, cannot revoke, and sees revocations made elsewhere', async (t) => {
    const hana = await signIn(browser, 'hana@example.com', consoleUrl('/console/sessions'), 375);
    t.match(await hana.textContent('.console-nav'), /hana@example\.com · viewer/, 'signed in through Gatehouse as a viewer');
    // Dana's wiki session (her newest is the console's refused one).
    const sessions = await adminFetch(stack, '/admin/sessions?email=dana%40example.com&app=wiki').then((r) => r.json() as Promise<{ sessions: Array<{ id: string }> }>);
    const id = sessions.sessions[0]?.id as string;
    await hana.goto(consoleUrl(`/console/sessions/${id}`));
    t.equal(await hana.locator('button:has-text("Revoke")').count(), 0, 'no Revoke button for a viewer');
    t.same(await axeSerious(hana), [], 'the viewer page passes axe-core at 375 px');
    // The viewer's own CSRF token (from the what-if form): valid, yet the role does not allow it.
    await hana.goto(consoleUrl('/console/policy-test'));
    const csrf = await hana.locator('input[name=csrf]').first().getAttribute('value');
    const status = await hana.evaluate(
      async ([url, token]) => (await fetch(url as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(token as string)}&reason=x` })).status,
      [consoleUrl(`/console/sessions/${id}/revoke`), csrf],
    );
    t.equal(status, 403, "a viewer's revoke POST is refused by the server, with a valid CSRF token");
    // The other actions too: no button on the user and app pages, and the POST refused.
    await hana.goto(consoleUrl('/console/users/dana%40example.com'));
    t.equal(await hana.locator('button:has-text("Log out everywhere")').count(), 0, 'no Log out everywhere button for a viewer');
    await hana.goto(consoleUrl('/console/apps/wiki'));
    t.equal(await hana.locator('button:has-text("Everyone must sign in again")').count(), 0, 'no Everyone must sign in again button for a viewer');
    for (const path of ['/console/users/dana%40example.com/logout', '/console/apps/wiki/revoke']) {
      const refused = await hana.evaluate(
        async ([url, token]) => (await fetch(url as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(token as string)}&reason=x` })).status,
        [consoleUrl(path), csrf],
      );
      t.equal(refused, 403, `a viewer's POST to ${path} is refused by the server`);
    }
    t.equal(((await adminFetch(stack, '/admin/actions').then((r) => r.json())) as { actions: unknown[] }).actions.length, 0, 'nothing was done, nothing recorded');

    // The live list: a revocation through the API shows without a reload.
    await hana.goto(consoleUrl('/console/sessions?status=all&user=dana%40example.com&app=wiki'));
    t.match(await hana.textContent('#sessions'), /active/);
    const revoked = await adminFetch(stack, `/admin/sessions/${id}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'test' }) });
    t.equal(revoked.status, 200, 'revoked elsewhere (the admin API)');
    // A locator wait (no string evaluation: the console's CSP forbids eval, rightly).
    await hana.locator('#sessions', { hasText: 'revoked' }).waitFor({ timeout: 15_000 });
    t.pass('the list shows the revocation without a reload');
  });

  t.test('an operator signs in through Gatehouse and revokes', async (t) => {
    const again = await signIn(browser, 'dana@example.com', wikiUrl, 1280, dana);
    t.equal(await again.textContent('#hello'), 'wiki', 'dana signed in again');
    const sam = await signIn(browser, 'sam@example.com', consoleUrl('/console/'));
    t.match(await sam.textContent('.console-nav'), /sam@example\.com · operator/);
    await sam.goto(consoleUrl('/console/sessions?user=dana%40example.com&app=wiki'));
    await sam.click('#sessions td:nth-child(2) a');
    await sam.fill('#reason', 'lost laptop');
    await sam.click('button:has-text("Revoke this session")');
    t.match(await sam.textContent('.notice'), /revoked/);
    t.match(await sam.textContent('main'), /console:sam@example\.com/, 'recorded as revoked by the operator');
    await sam.click('nav a:has-text("Actions")');
    t.match(await sam.textContent('#actions'), /console:sam@example\.com[\s\S]*Session revoked[\s\S]*lost laptop/, 'the Actions page lists it: who, what, why');
    await again.goto(wikiUrl);
    t.match(again.url(), /\/\.gatehouse\/login/, "dana's next request is refused");
  });
}

// The console's two wide actions walked in Chromium against a real gateway with real sign-ins:
// "Log out everywhere" on a user's page ends every session of that user (both browsers she signed in
// with are refused on their next request), and "Everyone must sign in again" on an app's page makes
// another user sign in again for that app. Both land in the Actions page with who, what and why.
import t from 'tap';
import { ADMIN_TOKEN, startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { installAdminApi } from '../../src/admin/install.js';
import { installConsole } from '../../src/console/install.js';
import { usersYaml } from '../login/helpers/users.js';
import { needsChromium } from '../helpers/machine.js';
import { axeSerious, launch } from './helpers.js';
import type { Browser, Page } from 'playwright-core';

t.setTimeout(300_000);

if (needsChromium(t, 'the console actions browser test')) {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>wiki</title><h1 id="hello">wiki</h1>');
  });
  const people = [
    { email: 'dana@example.com', password: 'dana-password-1', groups: ['staff'] },
    { email: 'eli@example.com', password: 'eli-password-1', groups: ['staff'] },
  ];
  const stack = await startStack(t, {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.localhost'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
    gateway: { identity_providers: [{ id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' }] },
    files: { 'users.yaml': await usersYaml(people) },
    extend: async (g) => {
      await installLogin(g);
      installAdminApi(g);
      installConsole(g);
    },
  });
  const browser = await launch(t);
  const wikiUrl = `http://wiki.localhost:${stack.port}/`;
  const consoleUrl = `${stack.adminUrl}/console`;

  async function signIn(b: Browser, email: string): Promise<Page> {
    const ctx = await b.newContext();
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    await page.goto(wikiUrl);
    await page.fill('#email', email);
    await page.fill('#password', people.find((p) => p.email === email)?.password ?? '');
    await Promise.all([page.waitForURL(wikiUrl), page.click('button[type=submit]')]);
    return page;
  }

  /** The admin's console, signed in with the admin token once (the second walk finds it signed in). */
  let adminPage: Promise<Page> | undefined;
  const admin = () => (adminPage ??= adminSignIn());
  async function adminSignIn(): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    await page.goto(`${consoleUrl}/sign-in`);
    await page.fill('#token', ADMIN_TOKEN);
    await Promise.all([page.waitForURL(/\/console\/sessions$/), page.click('button[type=submit]')]);
    return page;
  }

  t.test('log out everywhere: every browser of the user is refused next', async (t) => {
    const laptop = await signIn(browser, 'dana@example.com');
    const phone = await signIn(browser, 'dana@example.com');
    t.equal(await laptop.textContent('#hello'), 'wiki', 'dana is in on her laptop');
    t.equal(await phone.textContent('#hello'), 'wiki', 'and on her phone');
    const page = await admin();
    await page.goto(`${consoleUrl}/sessions?user=dana%40example.com`);
    await page.click('#sessions a:has-text("dana@example.com")');
    t.match(await page.textContent('h1'), 'dana@example.com');
    t.same(await axeSerious(page), [], 'the user page passes axe-core');
    await page.fill('#reason-user', 'account compromised');
    await page.click('button:has-text("Log out everywhere")');
    t.match(await page.textContent('.notice'), /Every session of this user is revoked/);
    t.equal(await page.locator('button:has-text("Log out everywhere")').count(), 0, 'no active session left: the button is gone');
    for (const [name, p] of [['laptop', laptop], ['phone', phone]] as const) {
      await p.goto(wikiUrl);
      t.match(p.url(), /\/\.gatehouse\/login/, `dana's next request on her ${name} is refused: back to sign-in`);
    }
    await page.click('nav a:has-text("Actions")');
    t.match(await page.textContent('#actions'), /admin:env[\s\S]*User logged out everywhere[\s\S]*dana@example\.com[\s\S]*account compromised[\s\S]*revoked: 2/, 'recorded: who, what, to whom, why, how many');
  });

  t.test('everyone must sign in again: the app refuses sessions issued before', async (t) => {
    const eli = await signIn(browser, 'eli@example.com');
    t.equal(await eli.textContent('#hello'), 'wiki', 'eli is in');
    const page = await admin();
    await page.goto(`${consoleUrl}/apps`);
    await page.click('a:has-text("wiki")');
    t.same(await axeSerious(page), [], 'the app page passes axe-core');
    await page.fill('#reason-app', 'rotated the wiki admin password');
    await page.click('button:has-text("Everyone must sign in again")');
    t.match(await page.textContent('.notice'), /must sign in again/);
    t.match(await page.textContent('main'), /must sign in again/, 'the cut-off is shown on the page');
    await eli.goto(wikiUrl);
    t.match(eli.url(), /\/\.gatehouse\/login/, "eli's next request is refused: back to sign-in");
    await page.goto(`${consoleUrl}/actions?action=app.revoke`);
    t.match(await page.textContent('#actions'), /admin:env[\s\S]*wiki[\s\S]*rotated the wiki admin password/, 'recorded with its reason');
    t.same(await axeSerious(page), [], 'the Actions page passes axe-core');
  });
}

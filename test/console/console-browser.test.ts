// The console walked end to end in Chromium against a real gateway: a user is denied through a real
// sign-in; an admin signs in to the console (admin token → console cookie), finds the user, opens
// the denial from its request id, sees the failing rule, runs the what-if with a fixed policy,
// revokes the session, and the user's next request is refused. Cross-site posts are refused. Every
// page passes axe-core at 375 and 1280 px. GATEHOUSE_SCREENSHOTS=1 writes the docs' screenshots
// (docs/images/console-*.png); GATEHOUSE_SCREENSHOTS=<dir> keeps every page at every width there.
import { mkdirSync } from 'node:fs';
import t from 'tap';
import { stringify } from 'yaml';
import { startStack, startUpstream, ADMIN_TOKEN } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { installAdminApi } from '../../src/admin/install.js';
import { installConsole } from '../../src/console/install.js';
import { usersYaml } from '../login/helpers/users.js';
import { needsChromium } from '../helpers/machine.js';
import { checkPage, launch, screenshotPath, WIDTHS } from './helpers.js';

t.setTimeout(300_000);
const SHOTS = process.env.GATEHOUSE_SCREENSHOTS;
if (SHOTS && SHOTS !== '1') mkdirSync(SHOTS, { recursive: true });

if (needsChromium(t, 'the console browser test')) {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>wiki</title><h1 id="hello">wiki</h1>');
  });
  const wiki = { name: 'wiki', hosts: ['wiki.localhost'], upstream: up.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] };
  const stack = await startStack(t, {
    apps: { wiki },
    gateway: { identity_providers: [{ id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' }] },
    files: { 'users.yaml': await usersYaml([{ email: 'dana@example.com', password: 'dana-password-1', name: 'Dana Contractor', groups: ['contractors'] }]) },
    extend: async (g) => {
      await installLogin(g);
      installAdminApi(g);
      installConsole(g);
    },
  });
  const browser = await launch(t);
  const wikiUrl = `http://wiki.localhost:${stack.port}/handbook`;

  const user = await browser.newContext();
  t.teardown(() => user.close());
  const dana = await user.newPage();
  let requestId = '';
  t.test('a user signs in for real and is denied', async (t) => {
    await dana.goto(wikiUrl);
    await dana.fill('#email', 'dana@example.com');
    await dana.fill('#password', 'dana-password-1');
    await Promise.all([dana.waitForURL(wikiUrl), dana.click('button[type=submit]')]);
    t.match(await dana.textContent('h1'), /Access denied/, 'dana is denied');
    requestId = ((await dana.textContent('.meta code')) ?? '').trim();
    t.match(requestId, /\S{8,}/, 'the 403 page shows its request id');
  });

  const console = `${stack.adminUrl}/console`;

  // The admin's browser: signed in by the walk below, then the target of the cross-site posts.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  t.teardown(() => ctx.close());
  const page = await ctx.newPage();

  t.test('an admin finds the denial, explains it, runs the what-if, revokes', async (t) => {
    await page.goto(`${console}/`);
    t.match(page.url(), /\/console\/sign-in\?next=/, 'asked to sign in');
    await page.fill('#token', 'not-the-token');
    await page.click('button[type=submit]');
    t.match(await page.textContent('.notice'), /not an admin token/, 'a wrong token is refused');
    await page.fill('#token', ADMIN_TOKEN);
    await Promise.all([page.waitForURL(/\/console\/sessions$/), page.click('button[type=submit]')]);
    const cookie = (await ctx.cookies()).find((c) => c.name === 'gatehouse_console');
    t.ok(cookie?.httpOnly && cookie.secure && cookie.sameSite === 'Strict', 'an HttpOnly, Secure, SameSite=Strict console cookie');
    t.notMatch(cookie?.value ?? '', ADMIN_TOKEN, 'the cookie does not carry the token');

    // Find the user who was denied: the session list, then the user's page.
    await page.click('#sessions a:has-text("dana@example.com")');
    t.match(await page.textContent('h1'), 'dana@example.com');
    await page.click('a:has-text("Refused requests of this user")');
    t.match(await page.textContent('#main-table, main'), requestId, 'the denial is listed with its request id');

    // Open the denial from its request id, as the user would read it out.
    await page.click('nav a:has-text("Why denied?")');
    await page.fill('#request-id', requestId);
    await page.click('button:has-text("Explain")');
    const main = (await page.textContent('main')) ?? '';
    t.match(main, /no_policy_matched/, 'the decision: no policy matched');
    t.match(main, /group staff/, 'the failing rule');
    t.match(main, /Config now/, 'config hash then and now');

    // The what-if with a fixed policy: contractors would gain access.
    await page.click('a:has-text("Try a fixed policy")');
    t.match(await page.textContent('main'), /policy_deny|no_policy_matched/, 'the test of the session shows the denial');
    const fixed = stringify({ ...wiki, upstream: up.url, policies: [...wiki.policies, { name: 'contractors', action: 'allow', include: [{ group: 'contractors' }] }] });
    await page.fill('#w-yaml', fixed);
    await page.click('button:has-text("Run the what-if")');
    const gained = (await page.textContent('[aria-label="Would gain access"]')) ?? '';
    t.match(gained, /dana@example\.com/, 'dana would gain access');
    const whatIfShot = screenshotPath('what-if', 1280);
    if (whatIfShot) await page.screenshot({ path: whatIfShot, fullPage: true });

    // Revoke dana's session; her next request is refused.
    await page.goto(`${console}/sessions?user=dana%40example.com`);
    await page.click('#sessions td:nth-child(2) a');
    await page.fill('#reason', 'contractor offboarding');
    await page.click('button:has-text("Revoke this session")');
    t.match(await page.textContent('.notice'), /revoked/, 'revoked');
    t.match(await page.textContent('main'), /contractor offboarding/, 'the reason is shown');
    await dana.goto(wikiUrl);
    t.match(dana.url(), /\/\.gatehouse\/login/, "dana's next request is refused: back to sign-in");
  });

  t.test('cross-site and token-less posts are refused', async (t) => {
    // In the admin's browser, signed in to the console by the walk above: a page of another origin
    // posts a revocation form to the console.
    const evil = `http://127.0.0.1:${up.port}/`;
    await page.goto(evil);
    await page.setContent(`<form id="f" method="post" action="${console}/users/dana%40example.com/logout"><input name="reason" value="x"><input name="csrf" value="guess"></form>`);
    const [answer] = await Promise.all([page.waitForNavigation(), page.evaluate('document.getElementById("f").submit()')]);
    t.equal(answer?.status(), 403, 'the cross-site form post is refused');
    // With the browser's own cookie but no token (a fetch from a console page): refused too.
    await page.goto(`${console}/sessions`);
    const status = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'reason=x' })).status, `${console}/users/dana%40example.com/logout`);
    t.equal(status, 403, 'a post without the CSRF token is refused');
  });

  t.test(`every console page at ${WIDTHS.join(' and ')} px`, async (t) => {
    const ctx = await browser.newContext({ viewport: { width: WIDTHS[0], height: 900 } });
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${console}/sign-in`);
    await checkPage(t, page, 'sign-in');
    await page.fill('#token', ADMIN_TOKEN);
    await Promise.all([page.waitForURL(/\/console\/sessions$/), page.click('button[type=submit]')]);
    const session = (await page.evaluate(async (u) => ((await (await fetch(u)).text()).match(/\/console\/sessions\/([^"?]+)"/) ?? [])[1], `${console}/sessions?status=all`)) as string;
    const pages: Array<[string, string]> = [
      ['sessions', '/sessions?status=all'],
      ['session', `/sessions/${session}`],
      ['users', '/users'],
      ['user', '/users/dana%40example.com'],
      ['apps', '/apps'],
      ['app', '/apps/wiki'],
      ['decisions', '/decisions'],
      ['decision', `/decisions?request_id=${encodeURIComponent(requestId)}`],
      ['policy-test', `/policy-test?app=wiki&email=dana%40example.com`],
      ['config', '/config'],
      ['actions', '/actions'],
    ];
    for (const [name, path] of pages) {
      const r = await page.goto(`${console}${path}`);
      t.equal(r?.status(), 200, `${name}: 200`);
      await checkPage(t, page, name);
    }
    t.same(cspErrors, [], 'the CSP refused nothing the console uses');
  });
}

// A real browser (Debian's chromium, driven by playwright-core) signs in through the local users
// form and sees the app. Plain http on 127.0.0.1, hence secure_cookie: false.
import t from 'tap';
import { chromium } from 'playwright-core';
import { startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { usersYaml } from '../login/helpers/users.js';
import { CHROMIUM, needsChromium } from '../helpers/machine.js';

if (needsChromium(t, 'the real-browser sign-in test')) {
  const upstream = await startUpstream(t, (req, res) => {
    const email = req.headers['x-gatehouse-user-email'];
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>whoami</title><h1 id="hello">Hello ${String(email)}</h1>`);
  });
  const stack = await startStack(t, {
    apps: { whoami: { name: 'whoami', hosts: ['127.0.0.1'], upstream: upstream.url, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] } },
    gateway: {
      session: { cookie: 'gatehouse_session', keys: './keys/session.jwks.json', secure_cookie: false },
      identity_providers: [{ id: 'local', type: 'local_users', name: 'Demo users', file: './users.yaml' }],
    },
    files: { 'users.yaml': await usersYaml([{ email: 'demo@example.com', password: 'gatehouse-demo', name: 'Demo User', groups: ['staff'] }]) },
    extend: async (g) => {
      await installLogin(g);
    },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());

  t.test('sign in through the local users form and see the app', async (t) => {
    const page = await browser.newPage();
    const app = `http://127.0.0.1:${stack.port}/welcome?from=browser`;
    await page.goto(app);
    t.match(page.url(), /\/\.gatehouse\/login\?rd=/, 'sent to the sign-in page');
    t.equal(await page.title(), 'Sign in · Gatehouse');
    await page.fill('#email', 'demo@example.com');
    await page.fill('#password', 'gatehouse-demo');
    await page.click('button[type=submit]');
    await page.waitForURL(app, { timeout: 10_000 });
    t.equal(await page.textContent('#hello'), 'Hello demo@example.com', 'the app sees the signed-in user');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'gatehouse_session');
    t.ok(session?.httpOnly, 'HttpOnly session cookie');
    t.equal(session?.sameSite, 'Lax');

    await page.goto(`http://127.0.0.1:${stack.port}/.gatehouse/identity`);
    t.match(await page.textContent('dl.facts'), /demo@example\.com/);
    await Promise.all([page.waitForURL(/signed-out|logout/), page.click('button[type=submit]')]);
    await page.goto(app);
    t.match(page.url(), /\/\.gatehouse\/login/, 'signed out: back to the sign-in page');
  });
}

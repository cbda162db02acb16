// Every person-facing page in a real browser (Debian's chromium, driven by playwright-core), at a
// phone's width (375 px) and a laptop's (1280 px): the strict CSP lets the page's own stylesheet
// and time script run and nothing else, nothing overflows sideways, and axe-core finds no serious
// or critical accessibility violation. GATEHOUSE_SCREENSHOTS=<dir> keeps a screenshot of each page.
// Each page is loaded once and checked at both widths by resizing the window: the pages' layout
// is CSS alone (no script reads the width), so a resized page lays out as one loaded at that width.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { TOTP, Secret } from 'otpauth';
import { chromium, type Page } from 'playwright-core';
import { request, startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { usersYaml } from '../login/helpers/users.js';
import { CHROMIUM, needsChromium } from '../helpers/machine.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = process.env.GATEHOUSE_SCREENSHOTS;
const WIDTHS = [375, 1280] as const;
const TOTP_SECRET = new Secret({ size: 20 }).base32;

/** The whole page on a phone; on a wide screen the column of the card, not the empty sides. */
async function screenshot(page: Page, path: string): Promise<void> {
  const card = await page.locator('main').boundingBox();
  const viewport = page.viewportSize();
  if (!card || !viewport || viewport.width < 600) return void (await page.screenshot({ path, fullPage: true }));
  await page.screenshot({ path, fullPage: true, clip: { x: Math.max(0, card.x - 40), y: 0, width: Math.min(viewport.width, card.width + 80), height: card.y + card.height + 40 } });
}

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>;
}

// 13 pages, each through axe-core at two widths; the default 120 s per file is too tight when the
// machine is busy with other suites.
t.setTimeout(300_000);

if (needsChromium(t, 'the page-look test (every page at 375 and 1280 px, axe-core)')) {
  // /hold keeps busy's one max_in_flight slot taken until the test lets go.
  const held: Array<() => void> = [];
  t.teardown(() => held.forEach((done) => done()));
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3000);
    if (req.url === '/hold') return void held.push(() => res.end('held'));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>app</title><h1 id="hello">Hello ${String(req.headers['x-gatehouse-user-email'])}</h1>`);
  });
  const closed = await startUpstream(t);
  const deadUrl = closed.url;
  await new Promise((r) => closed.server.close(r));
  const staff = [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }];
  const app = (name: string, extra: Record<string, unknown> = {}) => ({ name, hosts: [`${name}.localhost`], upstream: up.url, policies: staff, ...extra });
  const open = [{ name: 'open', action: 'bypass', include: [{ everyone: true }] }];
  const stack = await startStack(t, {
    apps: {
      login: app('login'),
      whoami: app('whoami', { identity_providers: ['local'] }),
      both: app('both'),
      admin: app('admin', { identity_providers: ['local'], policies: [{ name: 'admins', action: 'allow', include: [{ group: 'admins' }] }] }),
      dead: app('dead', { upstream: deadUrl, policies: open }),
      slow: app('slow', { policies: open, timeout: '1s' }),
      busy: app('busy', { policies: open, max_in_flight: 1 }),
      broken: app('broken', { policies: open }),
      api: app('api', { identity_providers: [] }),
    },
    gateway: {
      session: { cookie: 'gatehouse_session', keys: './keys/session.jwks.json', secure_cookie: false },
      login: { host: 'login.localhost' },
      identity_providers: [
        { id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' },
        { id: 'partners', type: 'local_users', name: 'Partner accounts', file: './partners.yaml' },
      ],
    },
    files: {
      'users.yaml': await usersYaml([{ email: 'tom@example.com', password: 'tom-password-1', name: 'Tom Example', groups: ['staff', 'engineering'], totp_secret: TOTP_SECRET }]),
      'partners.yaml': await usersYaml([]),
    },
    extend: async (g) => {
      await installLogin(g);
    },
  });
  const at = (host: string, path = '/') => `http://${host}.localhost:${stack.port}${path}`;
  // A 500 needs a gateway bug: the forwarder fails, on purpose, for the app "broken" only.
  const forwarder = stack.gw.services.forwarder;
  const web = forwarder.web.bind(forwarder);
  forwarder.web = (ctx, ...rest) => {
    if (ctx.app?.name === 'broken') throw new Error('a bug, on purpose: the 500 page');
    web(ctx, ...rest);
  };
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });

  t.test(`every page at ${WIDTHS.join(' and ')} px`, async (t) => {
    const user = 'tom';
    const totp = new TOTP({ secret: Secret.fromBase32(TOTP_SECRET) });
    const context = await browser.newContext({ viewport: { width: WIDTHS[0], height: 800 } });
    t.teardown(() => context.close());
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
    });

    /**
     * The checks every page gets, at each width in turn (the window resized, the page not
     * reloaded; `atWidth` adds a page's own); `scripted`: the time script is served on this host.
     * The window ends at a phone's width: every page is loaded, and every click made, at 375 px.
     */
    const check = async (name: string, heading: RegExp, scripted = true, atWidth?: (width: number) => Promise<void>) => {
      t.match(await page.textContent('h1'), heading, `${name}: the page`);
      t.match(await page.textContent('.brand'), /Gatehouse/, `${name}: product name`);
      t.match(await page.textContent('.meta'), /Request id/, `${name}: request id in the footer`);
      if (scripted) {
        await page.waitForSelector('.meta time[data-local]', { timeout: 10_000 });
        t.match(await page.getAttribute('.meta time', 'title'), /UTC$/, `${name}: local time shown, UTC on hover`);
      }
      await page.evaluate(AXE);
      for (const width of [...WIDTHS].reverse()) {
        await page.setViewportSize({ width, height: 800 });
        const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
        t.ok(scrollWidth <= width, `${name} at ${width}: no horizontal overflow (${scrollWidth} <= ${width})`);
        const cardBackground = await page.evaluate("getComputedStyle(document.querySelector('main')).backgroundColor");
        t.equal(cardBackground, 'rgb(255, 255, 255)', `${name} at ${width}: the stylesheet applies under the CSP`);
        const axe = (await page.evaluate(() => (globalThis as unknown as { axe: { run(o: object): Promise<unknown> } }).axe.run({ resultTypes: ['violations'] }))) as AxeResult;
        const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        t.same(serious, [], `${name} at ${width}: no serious or critical accessibility violations`);
        await atWidth?.(width);
        if (SHOTS) await screenshot(page, join(SHOTS, `${name}-${width}.png`));
      }
    };

    await page.goto(at('both', '/start'));
    await check('chooser', /Sign in/);
    t.match(await page.textContent('main'), /to continue to both/);

    // An app no sign-in serves (token callers only): a browser without a session gets the 401 page.
    const anonymous = await page.goto(at('api'));
    t.equal(anonymous?.status(), 401);
    await check('401', /Sign-in required/);

    await page.goto(at('whoami', '/hello'));
    await check('login', /Sign in/);
    t.match(await page.textContent('.lead'), /Sign in with Team accounts to continue to whoami/, 'the login page names the app');
    t.equal(await page.locator('#totp').count(), 0, 'no one-time-code field before the password');
    await page.fill('#email', `${user}@example.com`);
    await page.fill('#password', `${user}-password-1`);
    await Promise.all([page.waitForURL(/\/\.gatehouse\/login$/), page.click('button[type=submit]')]);
    await check('code', /One-time code/);
    await page.fill('#totp', totp.generate());
    await Promise.all([page.waitForURL(at('whoami', '/hello')), page.click('button[type=submit]')]);
    t.equal(await page.textContent('#hello'), `Hello ${user}@example.com`, 'signed in with password and code');

    await page.goto(at('whoami', '/.gatehouse/identity'));
    // A word broken across lines has more than one client rect; every label word must have one.
    const labelWordsBroken = async () => (await page.evaluate(`[...document.querySelectorAll('dl.facts dt, .meta dt')].flatMap((dt) => {
      const text = dt.firstChild;
      const out = [];
      for (const m of text.textContent.matchAll(/\\S+/g)) {
        const r = document.createRange();
        r.setStart(text, m.index);
        r.setEnd(text, m.index + m[0].length);
        if (r.getClientRects().length !== 1) out.push(m[0]);
      }
      return out;
    })`)) as string[];
    await check('identity', /Your identity/, true, async (width) => {
      t.same(await labelWordsBroken(), [], `no label breaks inside a word ("Authenti cation") at ${width}`);
    });

    const denied = await page.goto(at('admin', '/settings'));
    t.equal(denied?.status(), 403);
    await check('403', /Access denied/);
    t.match(await page.textContent('.status'), '403');
    const again = page.locator('a', { hasText: 'Sign in as someone else' });
    t.match(await again.getAttribute('href'), /^\/\.gatehouse\/login\?rd=.*&switch=1$/, 'a way to sign in as someone else');

    const bad = await page.goto(at('whoami', '/a%2fb'));
    t.equal(bad?.status(), 400);
    await check('400', /Bad request/);
    const unknown = await page.goto(`http://nowhere.localhost:${stack.port}/`);
    t.equal(unknown?.status(), 404);
    await check('404', /Not found/, false);
    const unreachable = await page.goto(at('dead'));
    t.equal(unreachable?.status(), 502);
    await check('502', /Bad gateway/);
    const late = await page.goto(at('slow', '/slow'));
    t.equal(late?.status(), 504);
    await check('504', /Gateway timeout/);
    const failed = await page.goto(at('broken'));
    t.equal(failed?.status(), 500);
    await check('500', /Internal error/);
    // busy's one slot is taken by a request the upstream holds: the browser's gets 503.
    const holding = request(stack.port, { host: 'busy.localhost', path: '/hold' });
    while (held.length === 0) await new Promise((r) => setTimeout(r, 20));
    const full = await page.goto(at('busy'));
    t.equal(full?.status(), 503);
    await check('503', /Service unavailable/);
    held.splice(0).forEach((done) => done());
    t.equal((await holding).status, 200);

    await page.goto(at('whoami', '/.gatehouse/logout'));
    await check('signout', /Sign out/);
    await Promise.all([page.waitForURL(/\/\.gatehouse\/logout$/), page.click('button[type=submit]')]);
    await check('signed-out', /Signed out/, true, async (width) => {
      const button = await page.locator('main .button').boundingBox();
      const card = await page.locator('main').boundingBox();
      t.ok(button && card && button.x + button.width <= card.x + card.width, `the button stays inside its card at ${width}`);
    });

    await page.goto(at('admin', '/settings'));
    await check('login-revoked', /Sign in/);
    t.match(await page.textContent('.notice'), /Your session was ended/, 'a revoked session is told why');

    t.same(cspErrors, [], 'the CSP refused nothing the pages use');
  });
}

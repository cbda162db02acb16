// Device identity in a real browser: Chromium's virtual authenticator (DevTools WebAuthn domain)
// enrolls a device and the session is let into an app that requires `device: enrolled`; a second
// browser context signed in as the same user, without the device, is sent to the device check and
// refused with reason device_required; an admin revokes the device and the first browser is
// refused on its next request. axe-core checks both device pages at 375 and 1280 px.
// GATEHOUSE_SCREENSHOTS=dir saves the enrollment page, the device list and the device check page at
// 1280 px as devices-enroll.png, devices-list.png and device-check.png (docs/devices.md shows them:
// GATEHOUSE_SCREENSHOTS=docs/images npx tap test/e2e/devices-browser.test.ts).
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { adminFetch, startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { installDevices } from '../../src/devices/install.js';
import { installAdminApi } from '../../src/admin/install.js';
import { usersYaml } from '../login/helpers/users.js';
import { CHROMIUM, needsChromium } from '../helpers/machine.js';

/** Whether this process may listen on 127.0.0.1:port (nothing else has it, and privileges allow). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = process.env.GATEHOUSE_SCREENSHOTS;

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>;
}

// Sign-in, enrolment and two contexts: well under a minute when idle; room for a busy machine.
t.setTimeout(240_000);

if (needsChromium(t, 'the device (WebAuthn) browser test')) {
  const upstream = await startUpstream(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>laptops</title><h1 id="hello">Hello ${String(req.headers['x-gatehouse-user-email'])}</h1>`);
  });
  const stack = await startStack(t, {
    apps: {
      laptops: {
        name: 'laptops',
        hosts: ['localhost'],
        upstream: upstream.url,
        show_denial_reasons: true,
        policies: [{ name: 'staff-on-devices', action: 'allow', include: [{ group: 'staff' }], require: [{ device: 'enrolled' }] }],
      },
    },
    gateway: {
      identity_providers: [{ id: 'local', type: 'local_users', name: 'Team accounts', file: './users.yaml' }],
    },
    files: { 'users.yaml': await usersYaml([{ email: 'ann@example.com', password: 'ann-password-1', name: 'Ann Example', groups: ['staff'] }]) },
    // For the docs' screenshots, port 80 when it is free: the pages show URLs without a test port.
    ...(SHOTS && (await portFree(80)) ? { listen: '127.0.0.1:80' } : {}),
    extend: async (g) => {
      await installLogin(g);
      await installDevices(g);
      installAdminApi(g);
    },
  });
  const origin = `http://localhost${new URL(stack.dataUrl).port ? `:${new URL(stack.dataUrl).port}` : ''}`;
  const app = `${origin}/dashboard`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });

  const signIn = async (page: Page) => {
    await page.goto(app);
    await page.fill('#email', 'ann@example.com');
    await page.fill('#password', 'ann-password-1');
    await Promise.all([page.waitForURL(/\/\.gatehouse\/device-check\?rd=/, { timeout: 20_000 }), page.click('button[type=submit]')]);
  };
  const api = (context: BrowserContext, url = app) => context.request.get(url, { headers: { accept: 'application/json' }, maxRedirects: 0 });
  const axe = async (t: Test, page: Page, name: string) => {
    await page.evaluate(AXE); // once per page: resizing keeps the document
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      const r = (await page.evaluate(() => (globalThis as unknown as { axe: { run(o: object): Promise<unknown> } }).axe.run({ resultTypes: ['violations'] }))) as AxeResult;
      const serious = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      t.same(serious, [], `${name} at ${width} px: no serious or critical accessibility violations`);
      const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      t.ok(scrollWidth <= width, `${name} at ${width} px: no horizontal overflow`);
    }
  };
  /** The page at 1280 px, for the docs (GATEHOUSE_SCREENSHOTS only): the card's column, not the empty sides. */
  const shot = async (page: Page, file: string) => {
    if (!SHOTS) return;
    await page.setViewportSize({ width: 1280, height: 800 });
    const card = await page.locator('main').boundingBox();
    const clip = card ? { x: Math.max(0, card.x - 40), y: 0, width: Math.min(1280, card.width + 80), height: card.y + card.height + 40 } : undefined;
    await page.screenshot({ path: join(SHOTS, file), fullPage: true, ...(clip ? { clip } : {}) });
  };

  t.test('enroll, be let in, a second browser without the device is refused, revoke refuses the first', async (t) => {
    const first = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    t.teardown(() => first.close());
    const page = await first.newPage();
    const cdp = await first.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });

    await signIn(page);
    t.equal(await page.textContent('h1'), 'Verify this device', 'no device yet: the device check page');
    await Promise.all([page.waitForURL(/\/\.gatehouse\/devices\?rd=/), page.click('text=Enroll this device')]);
    t.equal(await page.textContent('h1'), 'Your devices');
    await axe(t, page, 'devices-empty');
    await page.fill('#device-name', 'Ann’s laptop');
    await shot(page, 'devices-enroll.png');
    await Promise.all([page.waitForURL(app, { timeout: 20_000 }), page.click('#enroll-form button[type=submit]')]);
    t.equal(await page.textContent('#hello'), 'Hello ann@example.com', 'enrolled: the app lets the session in');

    const me = await (await first.request.get(`${origin}/.gatehouse/identity?format=json`)).json();
    t.equal(me.device?.name, 'Ann’s laptop', 'the identity shows the device');
    t.equal(me.device?.authenticator.attachment, 'platform');
    t.match(me.device, { enrolled_at: String, approved_at: String, last_assertion_at: String });
    t.equal(me.user_agent_facts.client_claimed, true);
    const deviceId = me.device.id as string;
    const session = (await (await adminFetch(stack, `/admin/sessions/${encodeURIComponent(me.session_id)}`)).json()) as { bound_device?: { id: string }; identity_history: Array<{ source: string; bound_device?: { after: string } }> };
    t.equal(session.bound_device?.id, deviceId, 'GET /admin/sessions/{id} shows the device');
    t.ok(session.identity_history.some((h) => h.source === 'device' && h.bound_device?.after === deviceId), 'the binding is in the identity history');

    await page.goto(`${origin}/.gatehouse/devices`);
    t.match(await page.textContent('main'), /Ann’s laptop/);
    await axe(t, page, 'devices');
    await shot(page, 'devices-list.png');

    // A second browser: same user, no authenticator with the device on it.
    const second = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    t.teardown(() => second.close());
    const other = await second.newPage();
    await signIn(other);
    t.equal(await other.textContent('h1'), 'Verify this device', 'the second browser gets the device check');
    await axe(t, other, 'device-check');
    await shot(other, 'device-check.png');
    const refused = await api(second);
    t.equal(refused.status(), 403);
    t.equal((await refused.json()).reason, 'device_required', 'an API request says why');

    // Verifying again in the first browser works through the check page (an assertion).
    await page.goto(`${origin}/.gatehouse/device-check?rd=${encodeURIComponent(app)}`);
    await Promise.all([page.waitForURL(app, { timeout: 20_000 }), page.click('#check-button')]);
    t.equal(await page.textContent('#hello'), 'Hello ann@example.com', 'the device check binds the device');

    const revoke = await adminFetch(stack, `/admin/devices/${deviceId}/revoke`, { method: 'POST' });
    t.equal(revoke.status, 200);
    t.equal(((await revoke.json()) as { state: string }).state, 'revoked');
    const after = await api(first);
    t.equal(after.status(), 403, 'revoked: the first browser is refused on its next request');
    t.equal((await after.json()).reason, 'device_required');
    await page.goto(app);
    t.match(page.url(), /\/\.gatehouse\/device-check\?rd=/, 'a navigation goes back to the device check');
  });
}

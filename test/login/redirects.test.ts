// rd must never send the browser off the hosts Gatehouse serves. Every line of the open-redirect
// corpus (/work/shared/testdata/openredirects.txt, from oauth2-proxy) is passed as rd through the
// real endpoints — the signed-in shortcut and the local form's POST — and through safeRedirect.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startStack, startUpstream } from '../helpers/stack.js';
import { installLogin } from '../../src/login/install.js';
import { safeRedirect } from '../../src/login/redirect.js';
import type { RequestContext } from '../../src/context.js';
import { Browser, parseForm } from './helpers/browser.js';
import { localSignIn } from './helpers/flows.js';
import { usersYaml } from './helpers/users.js';

// A copy of /work/shared/testdata/openredirects.txt (see fixtures/README.md). Line 1 is empty: that
// is a case too.
const text = readFileSync(fileURLToPath(new URL('fixtures/openredirects.txt', import.meta.url)), 'utf8');
const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');

/** Go's url.QueryUnescape ('+' is a space); a malformed escape keeps its bytes. */
function queryUnescape(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

const SERVED = 'www.whitelisteddomain.tld';
const upstream = await startUpstream(t);
const stack = await startStack(t, {
  apps: {
    wl: { name: 'wl', hosts: [SERVED], upstream: upstream.url, policies: [{ name: 'all', action: 'allow', include: [{ everyone: true }] }] },
    other: { name: 'other', hosts: ['other.test'], upstream: upstream.url, policies: [{ name: 'all', action: 'allow', include: [{ everyone: true }] }] },
  },
  gateway: { identity_providers: [{ id: 'local', type: 'local_users', file: './users.yaml' }] },
  files: { 'users.yaml': await usersYaml([{ email: 'ann@example.com', password: 'pw-ann-123' }]) },
  extend: async (g) => {
    await installLogin(g);
  },
});
const hosts = { [SERVED]: stack.port, 'other.test': stack.port };

/** Location must be absolute, on a served host, on this listener. */
function stays(location: string | undefined): boolean {
  if (!location) return false;
  return location.startsWith(`http://${SERVED}/`) || location.startsWith('http://other.test/.gatehouse/');
}

t.test(`the corpus: ${lines.length} lines`, async (t) => {
  t.equal(lines.length, 559);
});

t.test('signed in: /.gatehouse/login?rd=… redirects only within served hosts', async (t) => {
  const b = new Browser(hosts);
  t.equal((await localSignIn(b, `http://${SERVED}/.gatehouse/login`, { email: 'ann@example.com', password: 'pw-ann-123' })).status, 303);
  const escaped: string[] = [];
  for (const line of lines) {
    const rd = queryUnescape(line);
    const r = await b.request(`http://${SERVED}/.gatehouse/login?rd=${encodeURIComponent(rd)}`);
    if (r.status !== 302 || !stays(r.headers.location)) escaped.push(`${line} → ${r.status} ${r.headers.location}`);
  }
  t.same(escaped, [], 'no line leaves the served hosts');
});

t.test('signing in through the form: rd in the POST is checked again', async (t) => {
  const b = new Browser(hosts);
  const form = await b.request(`http://${SERVED}/.gatehouse/login`);
  const { action, fields } = parseForm(form.body, form.url);
  const escaped: string[] = [];
  for (const line of lines) {
    const r = await b.request(action, { form: { ...fields, rd: queryUnescape(line), email: 'ann@example.com', password: 'pw-ann-123' } });
    if (r.status !== 303 || !stays(r.headers.location)) escaped.push(`${line} → ${r.status} ${r.headers.location}`);
  }
  t.same(escaped, []);
});

t.test('safeRedirect on the raw and the unescaped lines', async (t) => {
  const ctx = fakeCtx(SERVED);
  const bad: string[] = [];
  for (const line of lines) {
    for (const rd of [line, queryUnescape(line)]) {
      const u = safeRedirect(rd, ctx);
      if (u && !(u.hostname === SERVED || u.hostname === 'other.test')) bad.push(`${rd} → ${u.href}`);
      if (u && u.protocol !== 'http:') bad.push(`${rd} → ${u.href}`);
    }
  }
  t.same(bad, []);
});

t.test('what is honoured', async (t) => {
  const ctx = fakeCtx(SERVED);
  t.equal(safeRedirect('/a/b?c=d#e', ctx)?.href, `http://${SERVED}/a/b?c=d#e`, 'a path on this host');
  t.equal(safeRedirect(`http://${SERVED}/x`, ctx)?.href, `http://${SERVED}/x`);
  t.equal(safeRedirect('http://other.test/y', ctx)?.href, 'http://other.test/y', 'another served host');
  t.equal(safeRedirect('HTTP://OTHER.TEST/y', ctx)?.href, 'http://other.test/y');
  t.equal(safeRedirect(`http://${SERVED}/.gatehouse/identity`, ctx)?.pathname, '/.gatehouse/identity', 'the identity page');
  for (const bad of [
    '//evil.test/',
    '/\\evil.test',
    'https://evil.test/',
    'http:evil.test',
    `http://${SERVED}@evil.test/`,
    `http://evil.test\\@${SERVED}/`,
    `http://${SERVED}.evil.test/`,
    `http://evil-${SERVED}/`,
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    `http://${SERVED}:9999/`,
    `http://user:pass@${SERVED}/`,
    `/\t/evil.test`,
    `http://${SERVED}/.gatehouse/logout`,
    'relative/path',
    `http://www.whitelisteddomain。tld.evil.test/`,
    '',
  ]) {
    t.equal(safeRedirect(bad, ctx), null, JSON.stringify(bad));
  }
  t.equal(safeRedirect(undefined, ctx), null);
});

t.test('a bad rd falls back to "/" on the current host', async (t) => {
  const b = new Browser(hosts);
  const r = await localSignIn(b, `http://${SERVED}/.gatehouse/login?rd=${encodeURIComponent('https://evil.test/')}`, { email: 'ann@example.com', password: 'pw-ann-123' });
  t.equal(r.headers.location, `http://${SERVED}/`);
});

function fakeCtx(host: string): RequestContext {
  return {
    config: stack.gw.configs.current,
    req: { headers: { host } },
    host,
    proto: 'http',
  } as unknown as RequestContext;
}

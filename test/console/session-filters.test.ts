// The session list's filters against a real gateway: IdP, group, country (from the trusted
// country header at sign-in) and enrolled device (an id, or "none"), with totals over every page —
// through the admin API (count=true) and on the console's Sessions page. A bad filter is a 400
// naming it.
import t from 'tap';
import { startStack, startUpstream, request, ADMIN_TOKEN } from '../helpers/stack.js';
import { installAdminApi } from '../../src/admin/install.js';
import { installConsole } from '../../src/console/install.js';
import { mintSessionToken } from '../../src/auth/session-token.js';

t.setTimeout(120_000);
type Json = Record<string, unknown>;

t.test('country, device, IdP and group filters with totals, in the API and the console', async (t) => {
  const up = await startUpstream(t);
  const s = await startStack(t, {
    apps: { wiki: { name: 'wiki', hosts: ['wiki.test'], upstream: up.url, policies: [{ name: 'all', action: 'allow', include: [{ everyone: true }] }] } },
    gateway: { trusted_proxies: ['127.0.0.1/32'], country_header: 'cf-ipcountry' },
    extend: (g) => {
      installAdminApi(g);
      installConsole(g);
    },
  });
  const people = [
    { sub: 'u-ada', email: 'ada@corp.example', idp: 'okta', groups: ['staff', 'sre'], country: 'DE' },
    { sub: 'u-bo', email: 'bo@corp.example', idp: 'okta', groups: ['staff'], country: 'FR' },
    { sub: 'u-cy', email: 'cy@corp.example', idp: 'google', groups: ['contractors'], country: 'DE' },
    { sub: 'u-di', email: 'di@corp.example', idp: 'google', groups: ['staff'], country: 'US' },
  ];
  const ids: Record<string, string> = {};
  for (const p of people) {
    const m = await mintSessionToken(s.gw.services.keys, { sub: p.sub, email: p.email, groups: p.groups, idp: p.idp, amr: ['pwd'] }, 3_600_000);
    const r = await request(s.port, { host: 'wiki.test', path: '/', headers: { cookie: `gatehouse_session=${m.token}`, 'cf-ipcountry': p.country } });
    t.equal(r.status, 200, `${p.email} is in`);
    ids[p.email] = m.jti;
  }
  // Ada proved her enrolled laptop (the device ceremony's last step writes this binding).
  await s.gw.store.devices.bind(ids['ada@corp.example'] as string, 'dev-laptop-1', Date.now());

  const api = async (query: string) => {
    const res = await fetch(`${s.adminUrl}/admin/sessions?${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const emails = (b: Json) => (b.sessions as Json[]).map((x) => x.email).sort();
  const cases: Array<[string, string[]]> = [
    ['country=de', ['ada@corp.example', 'cy@corp.example']],
    ['country=FR', ['bo@corp.example']],
    ['device=dev-laptop-1', ['ada@corp.example']],
    ['device=none', ['bo@corp.example', 'cy@corp.example', 'di@corp.example']],
    ['idp=okta', ['ada@corp.example', 'bo@corp.example']],
    ['group=staff', ['ada@corp.example', 'bo@corp.example', 'di@corp.example']],
    ['group=staff&country=DE', ['ada@corp.example']],
    ['device=none&idp=google&since=1h', ['cy@corp.example', 'di@corp.example']],
  ];
  for (const [query, expected] of cases) {
    const r = await api(`${query}&count=true`);
    t.equal(r.status, 200, query);
    t.same(emails(r.body), expected, `${query}: the sessions`);
    t.equal(r.body.total, expected.length, `${query}: the total`);
  }
  const small = await api('group=staff&count=true&limit=1');
  t.equal((small.body.sessions as Json[]).length, 1);
  t.equal(small.body.total, 3, 'the total counts every page, not this one');
  t.notOk('total' in (await api('group=staff')).body, 'no count unless asked');
  t.match((await api('since=yesterday')).body, { param: 'since' }, 'a bad since is a 400 naming it');

  // The console's Sessions page: the same filters, and the total shown.
  const signedIn = await fetch(`${s.adminUrl}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/console/sessions' }),
  });
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const page = async (query: string) => {
    const res = await fetch(`${s.adminUrl}/console/sessions?${query}`, { headers: { cookie } });
    return { status: res.status, html: await res.text() };
  };
  const all = await page('');
  t.match(all.html, /<strong>4<\/strong> sessions match/, 'every active session counted');
  const de = await page('country=DE');
  t.match(de.html, /<strong>2<\/strong> sessions match/);
  t.match(de.html, /ada@corp\.example/);
  t.notMatch(de.html, /bo@corp\.example/);
  t.match(de.html, /value="DE"/, 'the filter stays in its field');
  const laptop = await page('device=dev-laptop-1');
  t.match(laptop.html, /<strong>1<\/strong> session matches/);
  t.match(laptop.html, /ada@corp\.example/);
  const none = await page('device=none&group=staff');
  t.match(none.html, /<strong>2<\/strong> sessions match/);
  t.notMatch(none.html, /ada@corp\.example/);
  const bad = await page('since=yesterday');
  t.equal(bad.status, 400, 'a bad filter: a 400 page');
  t.match(bad.html, /since must be/);
});

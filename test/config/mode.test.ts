// mode: proxy (default), forward_auth, or both; upstream is required only where Gatehouse forwards.
import t from 'tap';
import { APP, GATEWAY, load, problems, setup } from './fixture.js';

const TRUSTED = `${GATEWAY}trusted_proxies: [127.0.0.1]\n`;
const withoutUpstream = (extra: string) => APP().replace('upstream: http://127.0.0.1:3000\n', extra);

t.test('default proxy; forward_auth alone needs no upstream; both as a list', async (t) => {
  const c = await load(t, setup(t, { 'wiki.yaml': APP(), 'fa.yaml': withoutUpstream('mode: forward_auth\n').replace(/wiki/g, 'fa'), 'both.yaml': `${APP('both')}mode: [proxy, forward_auth]\n` }, TRUSTED));
  const by = (n: string) => c.apps.find((a) => a.name === n)!;
  t.same(by('wiki').modes, { proxy: true, forwardAuth: false });
  t.same(by('fa').modes, { proxy: false, forwardAuth: true });
  t.equal(by('fa').upstream, undefined);
  t.same(by('both').modes, { proxy: true, forwardAuth: true });
  t.equal(by('both').upstream?.href, 'http://127.0.0.1:3000/');
});

t.test('upstream is required in proxy mode, with a message that says why', async (t) => {
  t.same(await problems(setup(t, { 'wiki.yaml': withoutUpstream('') }, TRUSTED)), [
    'apps/wiki.yaml:1:1 missing required key "upstream" (Gatehouse forwards to it in mode proxy, the default; only an app with mode: forward_auth alone needs none)',
  ]);
  t.same(await problems(setup(t, { 'wiki.yaml': withoutUpstream('mode: [forward_auth, proxy]\n') }, TRUSTED)), [
    'apps/wiki.yaml:1:1 missing required key "upstream" (Gatehouse forwards to it in mode proxy, the default; only an app with mode: forward_auth alone needs none)',
  ]);
  t.same(await problems(setup(t, { 'wiki.yaml': withoutUpstream('upstrem: http://127.0.0.1:3000\n') }, TRUSTED)), [
    'apps/wiki.yaml:3:1 unknown key "upstrem" (did you mean "upstream"?)',
  ], 'a typo is reported once, as a typo');
});

t.test('bad modes and forward_auth without trusted_proxies are refused', async (t) => {
  t.same(await problems(setup(t, { 'wiki.yaml': `${APP()}mode: forward-auth\n` }, TRUSTED)), [
    'apps/wiki.yaml:9:7 mode: expected "proxy", "forward_auth" or a list of "proxy" or "forward_auth", got "forward-auth"',
  ]);
  t.same(await problems(setup(t, { 'wiki.yaml': `${APP()}mode: forward_auth\n` })), [
    'apps/wiki.yaml:9:7 mode: forward_auth needs trusted_proxies in gateway.yaml: only those peers may ask /.gatehouse/auth',
  ]);
});

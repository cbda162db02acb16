// Stage 1 — route, on its own: a real config and real requests; it picks the app (the context is
// then a RoutedContext) or refuses with 400 / 404 as values.
import t from 'tap';
import { isRouted } from '../../src/context.js';
import { route } from '../../src/pipeline/route.js';
import { app, BYPASS, contextFor, request, setup } from './helpers.js';

t.test('a host an app serves: the context gets the app and the normalised path', async (t) => {
  const { config } = await setup(t, { wiki: app('wiki', BYPASS) });
  const ctx = contextFor(config, request({ url: '/a/./b/../c?x=1', host: 'wiki.test' }));
  t.equal(route(ctx), undefined, 'passes');
  t.ok(isRouted(ctx), 'routed');
  t.equal(ctx.app?.name, 'wiki');
  t.equal(ctx.path, '/a/c');
  t.equal(ctx.query, '?x=1');
  t.equal(ctx.host, 'wiki.test');
});

t.test('refusals are values naming the reason', async (t) => {
  const { config } = await setup(t, { wiki: app('wiki', BYPASS) });
  const nowhere = contextFor(config, request({ url: '/', host: 'other.test' }));
  t.match(route(nowhere), { code: 'route_not_found', reason: 'no_route' });
  t.notOk(isRouted(nowhere), 'no app: not routed');
  const slash = contextFor(config, request({ url: '/a%2Fb', host: 'wiki.test' }));
  t.match(route(slash), { code: 'bad_request' });
  const noHost = contextFor(config, request({ url: '/' }));
  t.match(route(noHost), { code: 'bad_request' });
});

t.test('/.gatehouse/* is routed to the host’s app whatever its paths', async (t) => {
  const { config } = await setup(t, { wiki: app('wiki', BYPASS, 'paths: [/docs]\n') });
  const ctx = contextFor(config, request({ url: '/.gatehouse/certs', host: 'wiki.test' }));
  t.equal(route(ctx), undefined);
  t.equal(ctx.app?.name, 'wiki');
  t.match(route(contextFor(config, request({ url: '/elsewhere', host: 'wiki.test' }))), { code: 'route_not_found' }, 'outside its paths: 404');
});

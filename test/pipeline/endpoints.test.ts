// Between authenticate and authorize — endpoints, on its own, answering a real HTTP request on a
// real listener: /.gatehouse/certs is the public key set, the pages' stylesheet is served with the
// page cache policy, other /.gatehouse/ paths are 404 values, and app paths pass.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRouted } from '../../src/context.js';
import { endpoints, HANDLED } from '../../src/pipeline/endpoints.js';
import { route } from '../../src/pipeline/route.js';
import { sendRejection } from '../../src/pipeline/respond.js';
import { request } from '../helpers/stack.js';
import { app, BYPASS, contextFor, setup } from './helpers.js';

t.test('certs answered, unknown /.gatehouse/ paths are 404, app paths pass', async (t) => {
  const { config, services } = await setup(t, { wiki: app('wiki', BYPASS) });
  const results: unknown[] = [];
  const server = http.createServer(async (req, res) => {
    const ctx = contextFor(config, req);
    const r = route(ctx);
    if (r || !isRouted(ctx)) return sendRejection(ctx, res, r ?? { code: 'internal_error', reason: 'unrouted' });
    const out = await endpoints(ctx, services, res);
    results.push(out);
    if (out === undefined) res.end('passed');
    else if (out !== HANDLED) sendRejection(ctx, res, out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const get = (path: string) => request(port, { path, host: 'wiki.test' });

  const certs = await get('/.gatehouse/certs');
  t.equal(certs.status, 200);
  t.equal(certs.headers['content-type'], 'application/jwk-set+json');
  t.same(certs.json(), services.keys.publicJwks, 'the public key set');
  t.equal(results.at(-1), HANDLED);

  const nope = await get('/.gatehouse/nope');
  t.equal(nope.status, 404);
  t.match(nope.json(), { error: 'route_not_found' });
  t.match(results.at(-1), { code: 'route_not_found' });

  const page = await get('/page');
  t.equal(page.body, 'passed');
  t.equal(results.at(-1), undefined);
});

// The last stage — forward, on its own: a real listener hands each request to route, then to the
// forwarder the gateway wires, streaming to a real upstream. Client-sent identity headers are
// stripped and the request id added; an upstream that refuses is a 502 value given to onFail.
import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRouted } from '../../src/context.js';
import type { Rejection } from '../../src/errors.js';
import { prepareUpstreamHeaders } from '../../src/pipeline/forward/headers.js';
import { sendRejection } from '../../src/pipeline/respond.js';
import { route } from '../../src/pipeline/route.js';
import type { Services } from '../../src/pipeline/services.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { request, startUpstream } from '../helpers/stack.js';
import { app, BYPASS, contextFor, setup } from './helpers.js';

/** A listener whose requests go route → forward and nothing else; returns its port and the failures. */
async function listener(t: Test, config: GatewayConfig, services: Services) {
  const failures: Rejection[] = [];
  const server = http.createServer((req, res) => {
    const ctx = contextFor(config, req);
    const r = route(ctx);
    if (r || !isRouted(ctx)) return sendRejection(ctx, res, r ?? { code: 'internal_error', reason: 'unrouted' });
    const upstream = prepareUpstreamHeaders(ctx, services, ctx.trustedPeer);
    services.forwarder.web(ctx, res, upstream, (rej) => {
      failures.push(rej);
      sendRejection(ctx, res, rej);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { port: (server.address() as AddressInfo).port, failures };
}

t.test('streams to the upstream: identity headers stripped, request id added, body through', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`got ${Buffer.concat(chunks).toString()}`));
  });
  const { config, services } = await setup(t, { wiki: app('wiki', BYPASS, '', up.url) });
  const { port, failures } = await listener(t, config, services);
  const reply = await request(port, { method: 'POST', path: '/save?x=1', host: 'wiki.test', headers: { 'x-gatehouse-user-email': 'forged@evil.test', 'content-type': 'text/plain' }, body: 'hello' });
  t.equal(reply.status, 200);
  t.equal(reply.body, 'got hello');
  const seen = up.seen[0];
  t.equal(seen?.url, '/save?x=1');
  t.equal(seen?.headers['x-gatehouse-user-email'], undefined, 'the forged identity header never arrives');
  t.match(seen?.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'the request id is added');
  t.equal(reply.headers['x-request-id'], seen?.headers['x-request-id'], 'the client sees the same id');
  t.same(failures, []);
});

t.test('an upstream that refuses: upstream_unavailable given to onFail, a 502 page', async (t) => {
  const dead = await startUpstream(t);
  const url = dead.url;
  await new Promise((r) => dead.server.close(r));
  const { config, services } = await setup(t, { wiki: app('wiki', BYPASS, '', url) });
  const { port, failures } = await listener(t, config, services);
  const reply = await request(port, { path: '/', host: 'wiki.test' });
  t.equal(reply.status, 502);
  t.match(failures, [{ code: 'upstream_unavailable' }]);
  t.match(reply.json(), { error: 'upstream_unavailable', request_id: /\S/ });
});

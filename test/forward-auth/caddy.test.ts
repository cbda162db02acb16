// Real Caddy in front, asking Gatehouse with forward_auth (docs/forward-auth/gatehouse.caddy as
// written): allowed, denied and unauthenticated requests, and the sign-in pages routed to Gatehouse.
import t from 'tap';
import { request, startUpstream } from '../helpers/stack.js';
import { startCaddy } from '../helpers/proxies.js';
import { startForwardAuthStack } from './helpers.js';
import { needsCaddy } from '../helpers/machine.js';

if (needsCaddy(t, 'the Caddy forward-auth test')) {
  const upstream = await startUpstream(t);
  // Caddy cannot choose its source address: here the trusted proxy is 127.0.0.1.
  const s = await startForwardAuthStack(t, upstream.url, '127.0.0.1');
  const caddy = await startCaddy(t, { gatehousePort: s.port, upstreamPort: upstream.port });
  const seenBy = (path: string) => upstream.seen.filter((r) => r.url === path).at(-1)?.headers ?? {};

  t.test('allowed: the app sees the identity Gatehouse answered, never the client’s', async (t) => {
    const alice = await s.session();
    const r = await request(caddy.port, { host: 'wiki.test', path: '/doc?v=1', headers: { cookie: `gatehouse_session=${alice.token}`, 'x-gatehouse-user-groups': 'admins' } });
    t.equal(r.status, 200, caddy.log());
    const h = seenBy('/doc?v=1');
    t.equal(h['x-gatehouse-user-email'], 'alice@corp.example');
    t.equal(h['x-gatehouse-user-groups'], 'staff');
    t.match(h['x-gatehouse-jwt-assertion'], /^ey/);
    await s.gw.writer.flush();
    t.match(await s.gw.store.sessionActivity(alice.jti), [{ app: 'wiki' }], 'recorded on the app Caddy asked about');

    const open = await request(caddy.port, { host: 'open.test', path: '/public', headers: { 'x-gatehouse-user-email': 'ceo@corp.example' } });
    t.equal(open.status, 200);
    for (const name of ['x-gatehouse-user-email', 'x-gatehouse-user-id', 'x-gatehouse-user-groups', 'x-gatehouse-jwt-assertion']) {
      t.equal(seenBy('/public')[name] ?? '', '', `a bypass answer carries no ${name}, and the client’s copy is gone`);
    }
  });

  t.test('denied: 403 with the request id of the recorded decision', async (t) => {
    const bob = await s.session({ sub: 'bob', email: 'bob@corp.example', groups: ['contractors', 'staff'] });
    const r = await request(caddy.port, { host: 'wiki.test', path: '/admin', method: 'POST', headers: { cookie: `gatehouse_session=${bob.token}`, accept: 'application/json' } });
    t.equal(r.status, 403);
    t.equal(r.json().request_id, r.headers['x-request-id']);
    await s.gw.writer.flush();
    const { items } = await s.gw.store.listDecisions({ requestId: r.headers['x-request-id'] as string, limit: 5 });
    t.match(items, [{ outcome: 'deny', method: 'POST', host: 'wiki.test', path: '/admin' }], 'the forwarded method, host and path');
    t.equal(upstream.seen.some((x) => x.url === '/admin'), false);
  });

  t.test('unauthenticated: browsers are sent to sign in on the app host, API clients get 401', async (t) => {
    const page = await request(caddy.port, { host: `wiki.test:${caddy.port}`, path: '/doc', headers: { accept: 'text/html' } });
    t.equal(page.status, 302);
    const login = `http://wiki.test:${caddy.port}/.gatehouse/login?rd=${encodeURIComponent(`http://wiki.test:${caddy.port}/doc`)}`;
    t.equal(page.headers.location, login);
    const form = await request(caddy.port, { host: `wiki.test:${caddy.port}`, path: new URL(login).pathname + new URL(login).search });
    t.equal(form.status, 200, 'the sign-in page, routed to Gatehouse');
    t.match(form.body, /<form method="post" action="\/\.gatehouse\/login">/);

    const api = await request(caddy.port, { host: 'wiki.test', path: '/api', headers: { accept: 'application/json' } });
    t.equal(api.status, 401);
    t.equal(api.headers['www-authenticate'], 'Bearer realm="wiki"');
  });
}

// "Why was request X denied?": every denial and unauthenticated request is explained by its
// request id through /admin/decisions.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedPort } from '../auth/helpers.js';
import { startAdminStack, type Json } from './helpers.js';

t.test('a denied request is explained by its request id', async (t) => {
  const s = await startAdminStack(t);
  const frank = await s.mint({ sub: 'u-frank', email: 'frank@corp.example', groups: ['staff', 'contractors'] });
  const res = await s.get('wiki.test', frank.token, { path: '/secret/plans?token=abc' });
  t.equal(res.status, 403);
  const requestId = res.headers['x-request-id'] as string;
  t.ok(requestId, 'the 403 carries a request id');

  const found = await s.admin<{ decisions: Json[]; next_cursor: null }>('GET', `/admin/decisions?request_id=${encodeURIComponent(requestId)}`);
  t.equal(found.status, 200);
  t.equal(found.body.decisions.length, 1);
  t.match(found.body.decisions[0], {
    request_id: requestId,
    time: String,
    app: 'wiki',
    email: 'frank@corp.example',
    outcome: 'deny',
    policy: 'no-contractors',
    reason: 'policy_deny',
    reasons: [/include\[0\] group .*contractors/],
    session_id: frank.jti,
    method: 'GET',
    host: 'wiki.test',
    path: '/secret/plans',
    client_ip: '127.0.0.1',
    config_hash: s.gw.configs.current.hash,
  });
  t.notMatch(JSON.stringify(found.body), /token=abc/, 'no query string is recorded');
  t.equal(found.body.next_cursor, null);
});

t.test('unauthenticated and unmatched requests, filters and bad parameters', async (t) => {
  const s = await startAdminStack(t);
  const anon = await s.get('wiki.test', null, { path: '/a' });
  t.equal(anon.status, 401);
  const bad = await s.get('wiki.test', 'not-a-token', { bearer: true });
  t.equal(bad.status, 401);
  const nobody = await s.mint({ sub: 'u-gus', email: 'gus@corp.example', groups: ['sales'] });
  const unmatched = await s.get('wiki.test', nobody.token);
  t.equal(unmatched.status, 403);
  t.equal((await s.get('docs.test', nobody.token)).status, 200);

  const unauth = await s.admin<{ decisions: Json[] }>('GET', '/admin/decisions?outcome=unauthenticated');
  t.same(unauth.body.decisions.map((d) => d.reason).sort(), ['token_malformed', 'token_missing']);
  t.match(unauth.body.decisions.find((d) => d.reason === 'token_missing'), { request_id: anon.headers['x-request-id'], email: null, session_id: null, path: '/a' });

  const why = await s.admin<{ decisions: Json[] }>('GET', '/admin/decisions?email=gus@corp.example');
  t.equal(why.body.decisions.length, 1, 'allowed requests are aggregated, not listed');
  t.match(why.body.decisions[0], { outcome: 'deny', policy: null, reason: 'no_policy_matched', reasons: [/^no-contractors: /, /^staff: include\[0\] group/] });

  t.equal((await s.admin<{ decisions: Json[] }>('GET', '/admin/decisions?app=docs')).body.decisions.length, 0);
  t.equal((await s.admin<{ decisions: Json[] }>('GET', '/admin/decisions?since=1h')).body.decisions.length, 3);
  t.equal((await s.admin<{ decisions: Json[] }>('GET', `/admin/decisions?since=${new Date(Date.now() + 60_000).toISOString()}`)).body.decisions.length, 0);
  t.equal((await s.admin<{ decisions: Json[] }>('GET', '/admin/decisions?since=2020-01-01')).body.decisions.length, 3);
  t.equal((await s.admin<{ decisions: Json[] }>('GET', `/admin/decisions?session_id=${nobody.jti}`)).body.decisions.length, 1);

  const page1 = await s.admin<{ decisions: Json[]; next_cursor: string }>('GET', '/admin/decisions?limit=2');
  t.equal(page1.body.decisions.length, 2);
  const page2 = await s.admin<{ decisions: Json[]; next_cursor: string | null }>('GET', `/admin/decisions?limit=2&cursor=${page1.body.next_cursor}`);
  t.equal(page2.body.decisions.length, 1);
  t.equal(page2.body.next_cursor, null);

  for (const [query, param] of <Array<[string, string]>>[
    ['since=yesterday', 'since'],
    ['since=5x', 'since'],
    ['since=2026-13-45T99:00:00Z', 'since'],
    ['outcome=maybe', 'outcome'],
    ['limit=-1', 'limit'],
    ['cursor=!!', 'cursor'],
    ['requestid=x', 'requestid'],
  ]) {
    const res = await s.admin<Json>('GET', `/admin/decisions?${query}`);
    t.equal(res.status, 400, query);
    t.equal(res.body.param, param, `${query} names ${param}`);
  }
  const since = await s.admin<Json>('GET', '/admin/decisions?since=yesterday');
  t.match(since.body.error, /since must be a duration like 30m, 1h, 7d or an ISO time/);
});

t.test('unknown endpoints and methods', async (t) => {
  const s = await startAdminStack(t);
  t.equal((await s.admin('GET', '/admin/nope')).status, 404);
  const wrong = await s.admin<Json>('PUT', '/admin/decisions');
  t.equal(wrong.status, 405);
});

t.test('every request id a person can see is findable: 404, 502, 504, and allowed ones', async (t) => {
  const dead = await closedPort();
  const slow = http.createServer(() => undefined); // never answers
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    slow.closeAllConnections();
    slow.close();
  });
  const s = await startAdminStack(t, {
    apps: {
      down: { name: 'down', hosts: ['down.test'], upstream: `http://127.0.0.1:${dead}`, policies: [{ name: 'open', action: 'bypass', include: [{ everyone: true }] }] },
      slow: { name: 'slow', hosts: ['slow.test'], upstream: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, timeout: '1s', policies: [{ name: 'open', action: 'bypass', include: [{ everyone: true }] }] },
    },
  });
  const byId = async (res: { headers: Record<string, unknown> }) => {
    const id = res.headers['x-request-id'] as string;
    return (await s.admin<{ decisions: Json[]; not_recorded?: Json }>('GET', `/admin/decisions?request_id=${encodeURIComponent(id)}`)).body;
  };

  const pat = await s.mint({ sub: 'u-pat', email: 'pat@corp.example', groups: ['staff'] });
  const missing = await s.get('nowhere.test', pat.token, { path: '/x' });
  t.equal(missing.status, 404);
  t.match((await byId(missing)).decisions, [
    { outcome: 'not_found', status: 404, app: null, reason: 'route_not_found', reasons: ['no app serves nowhere.test/x'], host: 'nowhere.test', path: '/x' },
  ]);

  const refused = await s.get('down.test', null, { path: '/p' });
  t.equal(refused.status, 502);
  t.match((await byId(refused)).decisions, [
    { outcome: 'error', status: 502, app: 'down', reason: 'upstream_unavailable', reasons: [`upstream http://127.0.0.1:${dead}: econnrefused`] },
  ]);

  const timedOut = await s.get('slow.test', pat.token);
  t.equal(timedOut.status, 504);
  t.match((await byId(timedOut)).decisions, [
    { outcome: 'error', status: 504, app: 'slow', reason: 'upstream_timeout', reasons: [/: no answer within timeout 1000 ms/], email: 'pat@corp.example', session_id: pat.jti },
  ]);

  const filtered = await s.admin<{ decisions: Json[] }>('GET', '/admin/decisions?outcome=error');
  t.equal(filtered.body.decisions.length, 2, 'outcome=error filters');

  // Allowed: aggregated per session and app, yet the id is placed.
  await s.get('wiki.test', pat.token, { path: '/one' });
  const allowed = await s.get('wiki.test', pat.token, { path: '/two' });
  t.equal(allowed.status, 200);
  const placed = await byId(allowed);
  t.same(placed.decisions, []);
  t.match(placed.not_recorded, {
    outcome: 'allow',
    note: /^allowed, not recorded individually/,
    app: 'wiki',
    session_id: pat.jti,
    email: 'pat@corp.example',
    aggregate: { request_count: 2, last_path: '/two' },
  });
  const unknown = (await s.admin<{ decisions: Json[]; not_recorded: Json }>('GET', '/admin/decisions?request_id=never-seen')).body;
  t.match(unknown.not_recorded, { outcome: null, note: /no refused request has this id/ });
  t.notOk('not_recorded' in (await s.admin<Json>('GET', '/admin/decisions?app=wiki')).body, 'only for a request id lookup');
});

// Sessions through the running gateway and the admin API: recorded with their full identity at
// first sight, listed, shown, revoked (refused on the very next request, and after a restart).
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, IDP_ISSUER, startAdminStack, type Json } from './helpers.js';

t.test('a gateway session appears with its full identity after first sight', async (t) => {
  const s = await startAdminStack(t);
  const alice = await s.mint({ sub: 'u-alice', email: 'alice@corp.example', name: 'Alice', groups: ['staff'], amr: ['pwd', 'mfa'], department: 'eng' });
  const res = await s.get('wiki.test', alice.token, { path: '/pages/home?x=secret', headers: { 'user-agent': 'test-agent/1' } });
  t.equal(res.status, 200);

  const list = await s.admin<{ sessions: Json[]; next_cursor: string | null }>('GET', '/admin/sessions');
  t.equal(list.status, 200);
  t.equal(list.body.sessions.length, 1);
  t.match(list.body.sessions[0], {
    id: alice.jti,
    email: 'alice@corp.example',
    name: 'Alice',
    idp: 'corp',
    groups: ['staff'],
    issued_at: new Date(alice.issuedAt * 1000).toISOString(),
    expires_at: new Date(alice.expiresAt * 1000).toISOString(),
    last_seen_at: String,
    apps: ['wiki'],
    revoked_at: null,
    kind: 'session',
    auth_methods: ['pwd', 'mfa'],
    status: 'active',
  });
  t.equal(list.body.next_cursor, null);

  const one = await s.admin<Json>('GET', `/admin/sessions/${alice.jti}`);
  t.equal(one.status, 200);
  t.match(one.body, {
    id: alice.jti,
    identity: { sub: 'u-alice', email: 'alice@corp.example', groups: ['staff'], idp: 'corp', amr: ['pwd', 'mfa'], issuer: 'gatehouse', kind: 'session', claims: { department: 'eng', sub: 'u-alice' } },
    network: { login_ip: '127.0.0.1', login_user_agent: 'test-agent/1', last_ip: '127.0.0.1' },
    device: null,
    apps: [{ app: 'wiki', request_count: 1, last_path: '/pages/home', first_seen_at: String, last_seen_at: String }],
    decisions: [],
    revocation: null,
  });
});

t.test('an external issuer token is recorded at first sight', async (t) => {
  const s = await startAdminStack(t);
  const token = await s.idp.sign({ sub: 'ext-1', email: 'bob@partner.example', groups: ['staff'], jti: 'ext-jti-1' });
  t.equal((await s.get('docs.test', token, { bearer: true })).status, 200);
  const one = await s.admin<Json>('GET', '/admin/sessions/ext-jti-1');
  t.equal(one.status, 200);
  t.match(one.body, { kind: 'token', email: 'bob@partner.example', idp: IDP_ISSUER, issuer: IDP_ISSUER, identity: { sub: 'ext-1', claims: { aud: 'gatehouse-api' } }, apps: [{ app: 'docs' }] });

  // Without a jti the session id is the token's SHA-256, never the token itself.
  const noJti = await s.idp.sign({ sub: 'ext-2', email: 'carol@partner.example' });
  t.equal((await s.get('docs.test', noJti, { bearer: true })).status, 200);
  const list = await s.admin<{ sessions: Json[] }>('GET', '/admin/sessions?email=carol@partner.example');
  t.equal(list.body.sessions.length, 1);
  t.match(list.body.sessions[0]?.id, /^[0-9a-f]{64}$/);
});

t.test('revocation: refused on the very next request, durable across a restart', async (t) => {
  const s = await startAdminStack(t);
  const dave = await s.mint({ sub: 'u-dave', email: 'dave@corp.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', dave.token)).status, 200);
  t.equal((await s.get('wiki.test', dave.token)).status, 200, 'the second request is a cache hit');

  const revoked = await s.admin<Json>('DELETE', `/admin/sessions/${dave.jti}?reason=${encodeURIComponent('laptop stolen')}`);
  t.equal(revoked.status, 200);
  t.match(revoked.body, { revoked: true, id: dave.jti, revoked_at: String, revoked_by: 'admin:env', reason: 'laptop stolen' });
  t.equal((await s.get('wiki.test', dave.token)).status, 401, 'the cached token is refused on the next request');

  const shown = await s.admin<Json>('GET', `/admin/sessions/${dave.jti}`);
  t.match(shown.body, { status: 'revoked', revoked_at: revoked.body.revoked_at, revocation: { revoked_by: 'admin:env', reason: 'laptop stolen' } });
  const again = await s.admin<Json>('DELETE', `/admin/sessions/${dave.jti}`, { reason: 'second time' });
  t.equal(again.status, 200);
  t.equal(again.body.revoked_at, revoked.body.revoked_at, 'a second revocation keeps the first');
  t.equal(again.body.reason, 'laptop stolen');

  const denied = await s.admin<{ decisions: Json[] }>('GET', '/admin/decisions?app=wiki&outcome=unauthenticated');
  t.match(denied.body.decisions[0], { reason: 'revoked', app: 'wiki', outcome: 'unauthenticated' }, 'the refusal is recorded with its reason');

  await s.restart(t);
  t.equal((await s.get('wiki.test', dave.token)).status, 401, 'still refused after a restart');
  const active = await s.admin<{ sessions: Json[] }>('GET', '/admin/sessions?active=true');
  t.same(active.body.sessions, []);
});

t.test('revoking unknown ids, and a store that fails, never claim success', async (t) => {
  const s = await startAdminStack(t);
  const unknown = await s.admin<Json>('DELETE', '/admin/sessions/no-such-session');
  t.equal(unknown.status, 404);
  t.match(unknown.body, { error: /no session with id "no-such-session"/, code: 'not_found', param: 'id' });
  t.equal((await s.admin('GET', '/admin/sessions/no-such-session')).status, 404);

  const erin = await s.mint({ sub: 'u-erin', email: 'erin@corp.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', erin.token)).status, 200);
  await s.gw.writer.flush();
  const store = s.gw.store as { revokeSession: unknown };
  const real = store.revokeSession;
  store.revokeSession = async () => {
    throw new Error('SQLITE_IOERR: disk I/O error');
  };
  t.teardown(() => void (store.revokeSession = real));
  const failed = await s.admin<Json>('DELETE', `/admin/sessions/${erin.jti}`);
  t.equal(failed.status, 503);
  t.match(failed.body.error, /audit store unavailable.*nothing was revoked.*disk I\/O error/);
  t.equal(failed.body.code, 'service_unavailable', 'the code from the error table');
  t.equal((await s.get('wiki.test', erin.token)).status, 200, 'nothing was revoked in memory either');
});

t.test('listing: filters, pages, and 400s naming the parameter', async (t) => {
  const s = await startAdminStack(t);
  const tokens = [];
  for (let i = 0; i < 5; i++) {
    const m = await s.mint({ sub: `u-${i}`, email: `user${i}@corp.example`, groups: ['staff'] });
    tokens.push(m);
    t.equal((await s.get(i % 2 ? 'docs.test' : 'wiki.test', m.token)).status, 200);
  }
  const page1 = await s.admin<{ sessions: Json[]; next_cursor: string }>('GET', '/admin/sessions?limit=2');
  t.equal(page1.body.sessions.length, 2);
  t.type(page1.body.next_cursor, 'string');
  const page2 = await s.admin<{ sessions: Json[]; next_cursor: string }>('GET', `/admin/sessions?limit=2&cursor=${page1.body.next_cursor}`);
  const page3 = await s.admin<{ sessions: Json[]; next_cursor: string | null }>('GET', `/admin/sessions?limit=2&cursor=${page2.body.next_cursor}`);
  t.equal(page3.body.next_cursor, null);
  const ids = [...page1.body.sessions, ...page2.body.sessions, ...page3.body.sessions].map((x) => x.id);
  t.same(new Set(ids), new Set(tokens.map((m) => m.jti)), 'the pages cover every session once');

  t.equal((await s.admin<{ sessions: Json[] }>('GET', '/admin/sessions?app=docs')).body.sessions.length, 2);
  t.equal((await s.admin<{ sessions: Json[] }>('GET', '/admin/sessions?user=u-3')).body.sessions.length, 1);
  t.equal((await s.admin<{ sessions: Json[] }>('GET', '/admin/sessions?email=USER1@corp.example')).body.sessions.length, 1, 'email is case-insensitive');
  t.equal((await s.admin<{ sessions: Json[] }>('GET', '/admin/sessions?active=false')).body.sessions.length, 0);

  for (const [query, param] of <Array<[string, string]>>[
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['active=maybe', 'active'],
    ['cursor=bogus', 'cursor'],
    ['emial=x', 'emial'],
  ]) {
    const res = await s.admin<Json>('GET', `/admin/sessions?${query}`);
    t.equal(res.status, 400, query);
    t.equal(res.body.param, param, `${query} names ${param}`);
    t.type(res.body.error, 'string');
    t.equal(res.body.code, 'invalid_parameter', `${query}: code`);
  }
});

t.test('admin authentication', async (t) => {
  const s = await startAdminStack(t);
  const none = await s.admin<Json>('GET', '/admin/sessions', undefined, null);
  t.equal(none.status, 401);
  t.match(none.body, { error: /missing or invalid admin token/, code: 'unauthenticated' });
  t.equal((await s.admin('GET', '/admin/sessions', undefined, 'wrong-token')).status, 401);
  t.equal((await s.admin('DELETE', '/admin/sessions/x', undefined, `${ADMIN_TOKEN}x`)).status, 401);
  t.equal((await s.admin('POST', '/admin/policy-test', { app: 'wiki', identity: {} }, null)).status, 401);
  const res = await fetch(`${s.gw.adminUrl}/admin/sessions`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'https://evil.example' } });
  t.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS');
});

t.test('the raw token is never written to the database file', async (t) => {
  const s = await startAdminStack(t);
  const m = await s.mint({ sub: 'u-frank', email: 'frank@corp.example', groups: ['contractors'] });
  t.equal((await s.get('wiki.test', m.token)).status, 403);
  const ext = await s.idp.sign({ sub: 'ext-9', email: 'gina@partner.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', ext, { bearer: true })).status, 200);
  await s.restart(t); // flushes, checkpoints and closes the first store
  const dir = join(s.dir, 'data');
  const bytes = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
  t.ok(bytes.includes('frank@corp.example'), 'the session was written');
  for (const token of [m.token, ext]) {
    t.notOk(bytes.includes(token), 'no raw token');
    t.notOk(bytes.includes(token.split('.')[2] as string), 'not even its signature');
  }
});

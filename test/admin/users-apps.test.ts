// Users (identity history, log out everywhere) and apps (who is using it, everyone logs in again).
import t from 'tap';
import { startAdminStack, type Json } from './helpers.js';

const nextSecond = () => new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));

t.test('users: list, identity history, log out everywhere', async (t) => {
  const s = await startAdminStack(t);
  const first = await s.mint({ sub: 'u-alice', email: 'alice@corp.example', name: 'Alice', groups: ['staff'], title: 'engineer' });
  t.equal((await s.get('wiki.test', first.token)).status, 200);
  await s.gw.writer.flush();
  await nextSecond();
  const second = await s.mint({ sub: 'u-alice', email: 'alice@corp.example', name: 'Alice', groups: ['staff', 'admins'], title: 'lead' });
  t.equal((await s.get('docs.test', second.token)).status, 200);
  const bob = await s.mint({ sub: 'u-bob', email: 'bob@corp.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', bob.token)).status, 200);

  const users = await s.admin<{ users: Json[] }>('GET', '/admin/users');
  t.equal(users.status, 200);
  const alice = users.body.users.find((u) => u.email === 'alice@corp.example');
  t.match(alice, { name: 'Alice', active_sessions: 2, last_seen_at: String });
  t.match(users.body.users.find((u) => u.email === 'bob@corp.example'), { active_sessions: 1 });

  const detail = await s.admin<Json & { history: Json[]; sessions: Json[] }>('GET', '/admin/users/alice@corp.example');
  t.equal(detail.status, 200);
  t.match(detail.body, {
    email: 'alice@corp.example',
    active_sessions: 2,
    identity: { session_id: second.jti, groups: ['staff', 'admins'], claims: { title: 'lead' }, idp: 'corp', sub: 'u-alice' },
  });
  t.equal(detail.body.history.length, 1);
  const day = new Date(second.issuedAt * 1000).toISOString().slice(0, 10);
  t.match(detail.body.history[0], {
    session_id: second.jti,
    groups: { added: ['admins'], removed: [] },
    claims_changed: ['title'],
    summary: `groups +admins; claims changed: title since ${day}`,
  });
  t.same(detail.body.sessions.map((x) => x.id).sort(), [first.jti, second.jti].sort());
  t.same(detail.body.sessions.find((x) => x.id === second.jti)?.apps, ['docs']);

  const out = await s.admin<{ revoked: string[]; email: string }>('DELETE', '/admin/users/alice@corp.example/sessions', { reason: 'offboarding' });
  t.equal(out.status, 200);
  t.same(out.body.revoked.sort(), [first.jti, second.jti].sort());
  t.equal((await s.get('wiki.test', first.token)).status, 401);
  t.equal((await s.get('docs.test', second.token)).status, 401);
  t.equal((await s.get('wiki.test', bob.token)).status, 200, 'other users are untouched');
  const after = await s.admin<Json>('GET', '/admin/users/alice@corp.example');
  t.equal(after.body.active_sessions, 0);
  t.match((after.body.sessions as Json[])[0], { status: 'revoked', revoke_reason: 'offboarding' });

  t.equal((await s.admin('GET', '/admin/users/nobody@corp.example')).status, 404);
  const gone = await s.admin<Json>('DELETE', '/admin/users/nobody@corp.example/sessions');
  t.equal(gone.status, 404);
  t.match(gone.body, { error: /no sessions recorded for "nobody@corp.example"/, code: 'not_found', param: 'email' });
});

t.test('apps: who is using it now, and everyone must log in again', async (t) => {
  const s = await startAdminStack(t);
  const carol = await s.mint({ sub: 'u-carol', email: 'carol@corp.example', groups: ['staff'] });
  const dan = await s.mint({ sub: 'u-dan', email: 'dan@corp.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', carol.token, { path: '/one' })).status, 200);
  t.equal((await s.get('wiki.test', carol.token, { path: '/two' })).status, 200);
  t.equal((await s.get('docs.test', dan.token)).status, 200);

  const using = await s.admin<{ app: string; revoked_before: null; sessions: Json[] }>('GET', '/admin/apps/wiki/sessions');
  t.equal(using.status, 200);
  t.equal(using.body.revoked_before, null);
  t.equal(using.body.sessions.length, 1);
  t.match(using.body.sessions[0], { id: carol.jti, email: 'carol@corp.example', activity: { app: 'wiki', request_count: 2, last_path: '/two' } });

  const revoked = await s.admin<Json>('POST', '/admin/apps/wiki/revoke');
  t.equal(revoked.status, 200);
  t.match(revoked.body, { app: 'wiki', revoked: true, revoked_before: String });
  t.equal((await s.get('wiki.test', carol.token)).status, 401, 'an older session must log in again for the app');
  t.equal((await s.get('docs.test', carol.token)).status, 200, 'other apps are untouched');
  const now = await s.admin<{ revoked_before: string; sessions: Json[] }>('GET', '/admin/apps/wiki/sessions');
  t.same(now.body.sessions, []);
  t.equal(now.body.revoked_before, revoked.body.revoked_before);

  await nextSecond();
  const fresh = await s.mint({ sub: 'u-carol', email: 'carol@corp.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', fresh.token)).status, 200, 'a new login works');

  await s.restart(t);
  t.equal((await s.get('wiki.test', carol.token)).status, 401, 'the app cut-off survives a restart');

  for (const [method, path] of [
    ['GET', '/admin/apps/nope/sessions'],
    ['POST', '/admin/apps/nope/revoke'],
  ] as const) {
    const res = await s.admin<Json>(method, path);
    t.equal(res.status, 404, `${method} ${path}`);
    t.match(res.body.error, /no app named "nope" \(configured: .*wiki/);
  }
});

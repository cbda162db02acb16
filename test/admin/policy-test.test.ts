// POST /admin/policy-test: by identity, by a user's latest recorded identity, by session — and the
// what-if of a candidate app file against everyone who used the app.
import t from 'tap';
import { stringify } from 'yaml';
import { startAdminStack, wikiApp, type Json } from './helpers.js';

type Explanation = Array<{ policy: string; action: string; matched: boolean; evaluated: boolean; rules: Json[] }>;

t.test('policy-test by identity, email and session id, with explanation', async (t) => {
  const s = await startAdminStack(t);
  const byIdentity = await s.admin<Json & { explanation: Explanation }>('POST', '/admin/policy-test', {
    app: 'wiki',
    identity: { email: 'hank@corp.example', groups: ['staff', 'contractors'], amr: ['pwd'] },
  });
  t.equal(byIdentity.status, 200);
  t.match(byIdentity.body, { app: 'wiki', outcome: 'deny', policy: 'no-contractors', reason: 'policy_deny', status: 403, reasons: [/contractors/] });
  t.same(byIdentity.body.explanation.map((e) => [e.policy, e.action, e.matched, e.evaluated]), [
    ['no-contractors', 'deny', true, true],
    ['staff', 'allow', false, false],
  ]);
  t.match(byIdentity.body.explanation[0]?.rules, [{ clause: 'include', index: 0, selector: 'group', matched: true, reason: /^include\[0\] group/ }]);

  const allowed = await s.admin<Json & { explanation: Explanation }>('POST', '/admin/policy-test', { app: 'wiki', identity: { email: 'ivy@corp.example', groups: ['admins'] } });
  t.match(allowed.body, { outcome: 'allow', policy: 'staff', reason: 'policy_allow', status: 200 });
  t.match(allowed.body.explanation[1]?.rules[0], { matched: true, reason: /admins/ });

  const anonymous = await s.admin<Json>('POST', '/admin/policy-test', { app: 'wiki', identity: null });
  t.match(anonymous.body, { outcome: 'deny', reason: 'no_policy_matched', status: 401, identity: null });

  const withFacts = await s.admin<Json>('POST', '/admin/policy-test', { app: 'wiki', identity: { groups: ['staff'], ip: '10.1.2.3', country: 'de' } });
  t.match(withFacts.body, { outcome: 'allow', facts: { ip: '10.1.2.3', country: 'DE' } });

  // Recorded identities: the user's latest session, or one session.
  const jo = await s.mint({ sub: 'u-jo', email: 'jo@corp.example', groups: ['staff'] });
  t.equal((await s.get('wiki.test', jo.token)).status, 200);
  const byEmail = await s.admin<Json>('POST', '/admin/policy-test', { app: 'wiki', email: 'jo@corp.example' });
  t.equal(byEmail.status, 200);
  t.match(byEmail.body, { outcome: 'allow', policy: 'staff', identity: { email: 'jo@corp.example', groups: ['staff'] }, source: { from: 'email', session_id: jo.jti }, facts: { ip: '127.0.0.1' } });
  const bySession = await s.admin<Json>('POST', '/admin/policy-test', { app: 'docs', session_id: jo.jti });
  t.match(bySession.body, { app: 'docs', outcome: 'allow', policy: 'signed-in', source: { from: 'session_id', session_id: jo.jti } });
});

t.test('policy-test errors: 404 for unknown names, 400 naming the field', async (t) => {
  const s = await startAdminStack(t);
  const cases: Array<[unknown, number, string | undefined]> = [
    [{ app: 'nope', identity: {} }, 404, 'app'],
    [{ app: 'wiki', email: 'ghost@corp.example' }, 404, 'email'],
    [{ app: 'wiki', session_id: 'no-such-session' }, 404, 'session_id'],
    [{ identity: {} }, 400, 'app'],
    [{ app: 7, identity: {} }, 400, 'app'],
    [{ app: 'wiki' }, 400, 'identity'],
    [{ app: 'wiki', email: 'a@b.c', session_id: 'x' }, 400, 'session_id'],
    [{ app: 'wiki', identity: { groups: 'staff' } }, 400, 'identity.groups'],
    [{ app: 'wiki', identity: { grups: ['staff'] } }, 400, 'identity.grups'],
    [{ app: 'wiki', identity: { ip: 'not-an-ip' } }, 400, 'identity.ip'],
    [{ app: 'wiki', identity: { kind: 'robot' } }, 400, 'identity.kind'],
    [{ app: 'wiki', identity: { claims: [] } }, 400, 'identity.claims'],
    [{ app: 'wiki', identity: 'alice' }, 400, 'identity'],
    [{ app: 'wiki', email: '' }, 400, 'email'],
    [{ app: 'wiki', identity: {}, colour: 'red' }, 400, 'colour'],
    [[1, 2], 400, 'body'],
    [{ app_yaml: 42 }, 400, 'app_yaml'],
    [{ app_yaml: 'name: wiki', since: 'last week' }, 400, 'since'],
  ];
  for (const [body, status, param] of cases) {
    const res = await s.admin<Json>('POST', '/admin/policy-test', body);
    t.equal(res.status, status, JSON.stringify(body));
    t.equal(res.body.param, param, `${JSON.stringify(body)} names ${param}`);
    t.type(res.body.error, 'string');
  }
  // A "billion laughs" alias bomb (issue 17 finding 7): a 400 naming app_yaml, not a 500.
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`), 'name: wiki'].join('\n');
  const bombed = await s.admin<Json & { problems: string[] }>('POST', '/admin/policy-test', { app_yaml: bomb });
  t.equal(bombed.status, 400, 'an alias bomb is a 400');
  t.equal(bombed.body.param, 'app_yaml');
  t.match(bombed.body.problems, [/alias/]);
  const notJson = await s.admin<Json>('POST', '/admin/policy-test', '{"app": ');
  t.equal(notJson.status, 400);
  t.match(notJson.body.error, /not valid JSON/);
});

t.test('what-if: a candidate file against everyone who used the app', async (t) => {
  const s = await startAdminStack(t);
  const people = {
    staff: await s.mint({ sub: 'u-k', email: 'kim@corp.example', groups: ['staff'] }),
    admin: await s.mint({ sub: 'u-l', email: 'lee@corp.example', groups: ['admins'] }),
    contractor: await s.mint({ sub: 'u-m', email: 'max@corp.example', groups: ['contractors', 'staff'] }),
    sales: await s.mint({ sub: 'u-n', email: 'nat@corp.example', groups: ['sales'] }),
    docsOnly: await s.mint({ sub: 'u-o', email: 'oz@corp.example', groups: ['sales'] }),
  };
  t.equal((await s.get('wiki.test', people.staff.token)).status, 200);
  t.equal((await s.get('wiki.test', people.admin.token)).status, 200);
  t.equal((await s.get('wiki.test', people.contractor.token)).status, 403);
  t.equal((await s.get('wiki.test', people.sales.token)).status, 403);
  t.equal((await s.get('docs.test', people.docsOnly.token)).status, 200);

  // Candidate: admins only, plus sales; contractors no longer denied outright but not allowed either.
  const upstream = (wikiApp('http://127.0.0.1:1') as { upstream: string }).upstream;
  const candidate = stringify({
    name: 'wiki',
    hosts: ['wiki.test'],
    upstream,
    policies: [{ name: 'admins-and-sales', action: 'allow', include: [{ group: ['admins', 'sales'] }] }],
  });
  const res = await s.admin<Json & { gained: Json[]; lost: Json[] }>('POST', '/admin/policy-test', { app_yaml: candidate, since: '1h' });
  t.equal(res.status, 200);
  t.match(res.body, { app: 'wiki', since: String, new_app: false, unchanged: 2 });
  t.same(res.body.gained, [{ email: 'nat@corp.example', user_id: 'u-n', session_id: people.sales.jti, policy: 'admins-and-sales' }]);
  t.equal(res.body.lost.length, 1);
  t.match(res.body.lost[0], { email: 'kim@corp.example', previous_policy: 'staff', reason: 'no_policy_matched', policy: null });
  t.equal(res.body.evaluated, 4, 'only users of this app are evaluated (the contractor and the admin are unchanged)');

  const iso = await s.admin<Json>('POST', '/admin/policy-test', { app_yaml: candidate, since: new Date(Date.now() + 60_000).toISOString() });
  t.equal(iso.body.evaluated, 0, 'an ISO since in the future sees nobody');

  const renamed = await s.admin<Json>('POST', '/admin/policy-test', { app: 'docs', app_yaml: candidate });
  t.equal(renamed.status, 400);
  t.equal(renamed.body.param, 'app');

  const fresh = await s.admin<Json>('POST', '/admin/policy-test', { app_yaml: candidate.replace('name: wiki', 'name: wiki2').replace('wiki.test', 'wiki2.test') });
  t.match(fresh.body, { app: 'wiki2', new_app: true, evaluated: 0 });
});

t.test('what-if: an invalid candidate answers 400 with every problem and its position', async (t) => {
  const s = await startAdminStack(t);
  const text = ['name: wiki', 'hosts: [wiki.test]', 'upstream: http://127.0.0.1:1', 'polices: []', 'policies:', '  - name: x', '    action: alow', '    include: [{ group: staff }]', ''].join('\n');
  const res = await s.admin<{ error: string; param: string; problems: string[] }>('POST', '/admin/policy-test', { app_yaml: text });
  t.equal(res.status, 400);
  t.equal(res.body.param, 'app_yaml');
  t.match(res.body.error, /app_yaml is not a valid app file \(2 problems\)/);
  t.match(res.body.problems, [/^4:1 unknown key "polices" \(did you mean "policies"\?\)/, /^7:13 /]);

  const unknownToken = ['name: wiki', 'hosts: [wiki.test]', 'upstream: http://127.0.0.1:1', 'policies:', '  - name: ci', '    action: allow', '    include: [{ service_token: robot }]', ''].join('\n');
  const cross = await s.admin<{ problems: string[] }>('POST', '/admin/policy-test', { app_yaml: unknownToken });
  t.equal(cross.status, 400);
  t.match(cross.body.problems, [/^7:\d+ .*no service token named "robot" in gateway.yaml/], 'checked against the running gateway.yaml');

  const yamlError = await s.admin<{ problems: string[] }>('POST', '/admin/policy-test', { app_yaml: 'name: [wiki\n' });
  t.equal(yamlError.status, 400);
  t.match(yamlError.body.problems, [/^\d+:\d+ YAML: /]);
});

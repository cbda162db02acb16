// Schema problems: every one reported, each at the key or value it is about, in words.
import t from 'tap';
import { APP, GATEWAY, problems, setup } from './fixture.js';

t.test('a typo in a key names the key, points at it and suggests the right one', async (t) => {
  const app = APP().replace('policies:', 'polices:');
  const file = setup(t, { 'wiki.yaml': app });
  t.same(await problems(file), ['apps/wiki.yaml:4:1 unknown key "polices" (did you mean "policies"?)']);
});

t.test('nested unknown keys, with and without a suggestion', async (t) => {
  const gw = GATEWAY.replace('  cookie: gh', '  cookei: gh') + 'frobnicate: 1\n';
  const file = setup(t, {}, gw);
  t.same(await problems(file), ['gateway.yaml:5:3 unknown key "cookei" (did you mean "cookie"?)', 'gateway.yaml:10:1 unknown key "frobnicate"']);
});

t.test('missing required keys point at the map that lacks them', async (t) => {
  const gw = GATEWAY.replace('admin:\n  listen: 127.0.0.1:9901\n', '').replace('  keys: ./keys.json\n', '');
  const file = setup(t, {}, gw);
  t.same(await problems(file), ['gateway.yaml:1:1 missing required key "admin"', 'gateway.yaml:3:3 session: missing required key "keys"']);
});

t.test('wrong types say what was expected and what was found', async (t) => {
  const gw = `${GATEWAY}workers: two\nadmin_extra: null\n`.replace('admin_extra: null\n', '');
  const app = `name: wiki
hosts: wiki.corp.example
upstream: http://127.0.0.1:3000
show_denial_reasons: yes
policies:
  - name: open
    action: bypass
    include:
      - everyone: true
`;
  const file = setup(t, { 'wiki.yaml': app }, gw.replace('listen: 127.0.0.1:8080', 'listen: 8080'));
  t.same(await problems(file), [
    'gateway.yaml:1:9 listen: expected host:port like 127.0.0.1:8080, got 8080',
    'gateway.yaml:10:10 workers: expected a whole number, got "two"',
    'apps/wiki.yaml:2:8 hosts: expected a list of strings, got "wiki.corp.example"',
    'apps/wiki.yaml:4:22 show_denial_reasons: expected true or false, got "yes"',
  ]);
});

t.test('an empty value is "nothing"; a list where a map belongs is a list', async (t) => {
  const gw = GATEWAY.replace('admin:\n  listen: 127.0.0.1:9901\n', 'admin:\n');
  const file = setup(t, { 'wiki.yaml': '- name: wiki\n' }, gw);
  t.same(await problems(file), ['gateway.yaml:2:1 admin: expected a map, got nothing', 'apps/wiki.yaml:1:1 expected a map, got a list']);
});

t.test('unions report once: the branch that fits, or what the union allows', async (t) => {
  const app = `name: wiki
hosts: [wiki.corp.example]
upstream: http://127.0.0.1:3000
policies:
  - name: p
    action: permit
    include:
      - email: 5
      - group: [staff, 3]
      - ip: []
      - country: ""
      - everyone: false
      - claim: {name: org, value: {}}
`;
  const file = setup(t, { 'wiki.yaml': app });
  t.same(await problems(file), [
    'apps/wiki.yaml:6:13 policies[0].action: must be one of allow, deny, bypass, service_auth (got "permit")',
    'apps/wiki.yaml:8:16 policies[0].include[0].email: expected a string or a list of strings, got 5',
    'apps/wiki.yaml:9:24 policies[0].include[1].group[1]: expected a string, got 3',
    'apps/wiki.yaml:10:13 policies[0].include[2].ip: must not be an empty list',
    'apps/wiki.yaml:11:18 policies[0].include[3].country: must not be empty',
    'apps/wiki.yaml:12:19 policies[0].include[4].everyone: must be true',
    'apps/wiki.yaml:13:35 policies[0].include[5].claim.value: expected a string, a number, true or false or a list of strings, numbers or booleans, got a map',
  ]);
});

t.test('bad durations, patterns and date-times', async (t) => {
  const gw = `${GATEWAY.replace('  cookie: gh', '  cookie: "g h"\n  duration: 1w')}service_tokens:
  - name: ci
    client_id: ci
    secret_hash: x
    expires_at: tomorrow
`;
  const app = APP().replace('upstream:', 'timeout: 30 seconds\nupstream:').replace('name: wiki', 'name: Wiki');
  const file = setup(t, { 'wiki.yaml': app }, gw);
  t.same(await problems(file), [
    'gateway.yaml:5:11 session.cookie: must be a valid cookie name (letters, digits and !#$%&\'*+.^_`|~-)',
    'gateway.yaml:6:13 session.duration: must be a duration like 30s, 5m, 8h',
    'gateway.yaml:15:17 service_tokens[0].expires_at: must be a date-time like 2030-01-31T00:00:00Z',
    'apps/wiki.yaml:1:7 name: must be lowercase letters, digits, "-" and "_", starting with a letter or digit',
    'apps/wiki.yaml:3:10 timeout: must be a duration like 30s, 5m, 8h',
  ]);
});

t.test('numeric limits', async (t) => {
  const gw = `${GATEWAY}workers: 0\nlimits:\n  max_header_size: 10\n`;
  const file = setup(t, {}, gw);
  t.same(await problems(file), ['gateway.yaml:10:10 workers: must be at least 1', 'gateway.yaml:12:20 limits.max_header_size: must be at least 1024']);
});

t.test('YAML syntax errors are positioned; other files are still checked', async (t) => {
  const bad = APP().replace('hosts: [wiki.corp.example]', 'hosts: [wiki.corp.example');
  const dup = `${APP('other')}name: again\n`;
  const file = setup(t, { 'a.yaml': bad, 'b.yaml': dup, 'c.yaml': '', 'd.yaml': APP('d').replace('polices', 'x').replace('name: open', 'nme: open') });
  const got = await problems(file);
  t.match(got[0], /^apps\/a\.yaml:\d+:\d+ YAML: /);
  t.same(got.slice(1), [
    'apps/b.yaml:9:1 YAML: Map keys must be unique',
    'apps/c.yaml:1:1 the file is empty',
    'apps/d.yaml:5:5 unknown key "nme" (did you mean "name"?)',
  ]);
});

t.test('problems of every file come together, gateway first, then apps in name order', async (t) => {
  const gw = GATEWAY.replace('listen: 127.0.0.1:8080', 'listen: nowhere');
  const file = setup(t, { 'b.yaml': APP('b').replace('upstream', 'upstrem'), 'a.yaml': APP('a').replace('name: open', 'name: ""') }, gw);
  t.same(await problems(file), [
    'gateway.yaml:1:9 listen: must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080',
    'apps/a.yaml:5:11 policies[0].name: must not be empty',
    'apps/b.yaml:3:1 unknown key "upstrem" (did you mean "upstream"?)',
  ]);
});

t.test('an unreadable gateway.yaml is one problem', async (t) => {
  const dir = t.testdir({});
  const got = await problems(`${dir}/missing.yaml`);
  t.equal(got.length, 1);
  t.match(got[0], /^missing\.yaml:1:1 cannot read .*missing\.yaml: no such file$/);
});

t.test('secret values are never echoed', async (t) => {
  const gw = `${GATEWAY}identity_providers:\n  - {id: corp, type: oidc, issuer: "https://idp.example", client_id: gh, client_secret: 123456789}\n`;
  t.same(await problems(setup(t, {}, gw)), ['gateway.yaml:11:89 identity_providers[0].client_secret: expected a string, got something else']);
});

t.test('YAML alias bombs and files over 1 MiB are config errors (issue 17 finding 7)', async (t) => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n');
  const big = `${APP()}# ${'x'.repeat(1024 * 1024)}\n`;
  const file = setup(t, { 'bomb.yaml': `${bomb}\n`, 'wiki.yaml': big });
  t.match(await problems(file), ['apps/bomb.yaml:1:1 YAML: Excessive alias count indicates a resource exhaustion attack', 'apps/wiki.yaml:1:1 YAML: the file is larger than 1024 KiB']);
});

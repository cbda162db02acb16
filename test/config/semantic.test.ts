// Semantic checks after the schema: URLs, CIDRs, hosts and paths, conflicts between apps, rules.
import t from 'tap';
import { APP, GATEWAY, load, problems, setup } from './fixture.js';

const app = (body: string) => `name: wiki\nhosts: [wiki.corp.example]\nupstream: http://127.0.0.1:3000\n${body}`;
const policy = (action: string, rules: string) => app(`policies:\n  - name: p\n    action: ${action}\n    include:\n${rules}`);

t.test('${NAME} is substituted in any string value; unset and malformed references are errors', async (t) => {
  const gw = GATEWAY.replace('listen: 127.0.0.1:8080', 'listen: 127.0.0.1:${PORT}').replace('cookie: gh', 'cookie: ${COOKIE}');
  const a = APP().replace('upstream: http://127.0.0.1:3000', () => 'upstream: "http://${UP_HOST}:3000/$${literal}"');
  const file = setup(t, { 'wiki.yaml': a }, gw);
  const c = await load(t, file, { PORT: '18080', COOKIE: 'sess', UP_HOST: 'backend.internal' });
  t.same(c.listen, { host: '127.0.0.1', port: 18080 });
  t.equal(c.session.cookie, 'sess');
  t.equal(c.apps[0]!.upstream?.href, 'http://backend.internal:3000/$%7Bliteral%7D');

  const broken = GATEWAY.replace('cookie: gh', 'cookie: ${MISSING}').replace('keys: ./keys.json', 'keys: ./${1BAD}/k.json');
  t.same(await problems(setup(t, {}, broken), {}), [
    'gateway.yaml:5:11 session.cookie: environment variable MISSING is not set',
    'gateway.yaml:6:9 session.keys: bad environment reference "${1BAD}" (write ${NAME}, or $${ for a literal ${)',
  ]);
});

t.test('relative paths resolve against gateway.yaml (app ca against the app file)', async (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const gw = `${GATEWAY.replace('apps: ./apps', 'apps: conf/apps').replace('  listen: 127.0.0.1:9901', '  listen: 127.0.0.1:9901\n  tokens_file: ./admin-tokens')}tls:
  cert: tls/cert.pem
  key: tls/key.pem
token_issuers:
  - issuer: https://sso.example
    jwks: ./sso.jwks.json
    audience: gatehouse
    algorithms: [ES256]
identity_providers:
  - id: local
    type: local_users
    file: users.yaml
`;
  const dir = t.testdir({
    'gateway.yaml': gw,
    tls: { 'cert.pem': pem, 'key.pem': pem.replace(/CERTIFICATE/g, 'PRIVATE KEY') },
    'sso.jwks.json': '{"keys":[]}',
    conf: { apps: { 'wiki.yaml': APP().replace('http://127.0.0.1:3000', 'https://127.0.0.1:3443\nca: ../ca/up.pem') }, ca: { 'up.pem': pem } },
  });
  const c = await load(t, `${dir}/gateway.yaml`);
  t.equal(c.session.keysFile, `${dir}/keys.json`);
  t.equal(c.store.sqlite, `${dir}/data/gh.db`);
  t.equal(c.appsDir, `${dir}/conf/apps`);
  t.equal(c.admin.tokensFile, `${dir}/admin-tokens`);
  t.equal(c.tokenIssuers[0]!.jwksFile, `${dir}/sso.jwks.json`);
  t.equal(c.identityProviders[0]!.file, `${dir}/users.yaml`);
  t.equal(c.tls?.cert, pem, 'tls holds PEM contents');
  t.match(c.tls?.key, /PRIVATE KEY/);
  t.equal(c.apps[0]!.ca, pem, 'app ca read relative to the app file');
  t.equal(c.apps[0]!.file, `${dir}/conf/apps/wiki.yaml`);
  t.equal(c.publicScheme, 'https');
});

t.test('files that cannot be read or are not PEM', async (t) => {
  const gw = `${GATEWAY}tls:\n  cert: nope.pem\n  key: key.txt\n`;
  const file = setup(t, { 'wiki.yaml': APP().replace('http://127.0.0.1:3000', 'http://127.0.0.1:3000\nca: ca.pem') }, gw, { 'key.txt': 'hello' });
  const dir = file.replace(/\/gateway\.yaml$/, '');
  t.same(await problems(file), [
    `gateway.yaml:11:9 tls.cert: cannot read ${dir}/nope.pem: no such file`,
    `gateway.yaml:12:8 tls.key: ${dir}/key.txt is not a PEM file (no "-----BEGIN" line)`,
    'apps/wiki.yaml:4:1 ca: applies only to an https:// upstream',
    `apps/wiki.yaml:4:5 ca: cannot read ${dir}/apps/ca.pem: no such file`,
  ]);
});

t.test('upstream must be an absolute http(s) URL without query, fragment or credentials', async (t) => {
  const files: Record<string, string> = {};
  const ups = ['/relative', 'ftp://x.example', 'http://x.example/?a=1', 'http://x.example/#f', 'http://u:p@x.example'];
  ups.forEach((u, i) => (files[`a${i}.yaml`] = APP(`a${i}`).replace('http://127.0.0.1:3000', `"${u}"`)));
  t.same(await problems(setup(t, files)), [
    'apps/a0.yaml:3:11 upstream: "/relative" is not an absolute URL (e.g. http://127.0.0.1:3000)',
    'apps/a1.yaml:3:11 upstream: "ftp://x.example" must be an http:// or https:// URL',
    'apps/a2.yaml:3:11 upstream: "http://x.example/?a=1" must not have a query (?) or fragment (#)',
    'apps/a3.yaml:3:11 upstream: "http://x.example/#f" must not have a query (?) or fragment (#)',
    'apps/a4.yaml:3:11 upstream: the URL must not contain credentials (user:password@)',
  ]);
});

t.test('bad CIDRs in trusted_proxies and ip rules', async (t) => {
  const gw = `${GATEWAY}trusted_proxies: [10.0.0.0/8, 10.0.0.0/33, "::1", fe80::/200, 300.1.2.3]\n`;
  const a = policy('allow', '      - ip: 192.168.0.0/16\n      - ip: [10.1.2.3, 1.2.3]\n      - ip: 2001:db8::/129\n');
  t.same(await problems(setup(t, { 'wiki.yaml': a }, gw)), [
    'gateway.yaml:10:31 trusted_proxies[1]: bad CIDR "10.0.0.0/33": prefix length must be 0-32',
    'gateway.yaml:10:51 trusted_proxies[3]: bad CIDR "fe80::/200": prefix length must be 0-128',
    'gateway.yaml:10:63 trusted_proxies[4]: bad IP address "300.1.2.3": not an IPv4 or IPv6 address',
    'apps/wiki.yaml:9:24 policies[0].include[1].ip[1]: bad IP address "1.2.3": not an IPv4 or IPv6 address',
    'apps/wiki.yaml:10:13 policies[0].include[2].ip: bad CIDR "2001:db8::/129": prefix length must be 0-128',
  ]);
  const ok = await load(t, setup(t, {}, `${GATEWAY}trusted_proxies: [10.0.0.0/8, "::1"]\n`));
  t.ok(ok.trustedProxies.contains('10.9.8.7'));
  t.notOk(ok.trustedProxies.contains('11.0.0.1'));
});

t.test('rules have exactly one selector; policies need an include', async (t) => {
  const a = app(`policies:
  - name: none
    action: allow
    include:
      - {}
  - name: two
    action: allow
    include:
      - email: a@corp.example
        group: staff
  - name: empty
    action: deny
    include: []
  - name: missing
    action: deny
    require:
      - everyone: true
`);
  t.same(await problems(setup(t, { 'wiki.yaml': a })), [
    'apps/wiki.yaml:8:9 policies[0].include[0]: a rule needs a selector (everyone, email, group, ip, …)',
    'apps/wiki.yaml:12:9 policies[1].include[0]: a rule has exactly one selector, found email, group (write one rule per selector)',
    'apps/wiki.yaml:16:14 policies[2].include: a policy needs a non-empty include (use "- everyone: true" to match everyone)',
    'apps/wiki.yaml:17:5 policies[3]: a policy needs a non-empty include (use "- everyone: true" to match everyone)',
  ]);
});

t.test('bypass policies may only use selectors that need no identity', async (t) => {
  const a = policy('bypass', '      - ip: 10.0.0.0/8\n      - group: staff\n      - email: [a@corp.example]\n      - everyone: true\n') + '    exclude:\n      - claim: {name: x, value: 1}\n';
  t.same(await problems(setup(t, { 'wiki.yaml': a })), [
    'apps/wiki.yaml:9:9 policies[0].include[1].group: a bypass policy cannot use group (bypassed requests carry no identity); use everyone, ip, country or valid_certificate',
    'apps/wiki.yaml:10:9 policies[0].include[2].email: a bypass policy cannot use email (bypassed requests carry no identity); use everyone, ip, country or valid_certificate',
    'apps/wiki.yaml:13:9 policies[0].exclude[0].claim: a bypass policy cannot use claim (bypassed requests carry no identity); use everyone, ip, country or valid_certificate',
  ]);
});

t.test('policy names are unique; references to the gateway must resolve', async (t) => {
  const a = app(`policies:
  - name: p
    action: allow
    include:
      - service_token: [ci, nope]
  - name: p
    action: allow
    issuers: [https://sso.example]
    include:
      - country: [DE, Germany]
      - valid_certificate: true
  - name: s
    action: service_auth
    issuers: [https://other.example]
    include:
      - service_token: ci
`);
  const gw = `${GATEWAY}service_tokens:\n  - {name: ci, client_id: ci, secret_hash: h}\n`;
  t.same(await problems(setup(t, { 'wiki.yaml': a }, gw)), [
    'apps/wiki.yaml:8:29 policies[0].include[0].service_token[1]: no service token named "nope" in gateway.yaml',
    'apps/wiki.yaml:9:11 policies[1].name: policy name "p" is already used by policies[0]',
    'apps/wiki.yaml:11:5 policies[1].issuers: applies only to action service_auth',
    'apps/wiki.yaml:11:15 policies[1].issuers[0]: issuer "https://sso.example" is not in token_issuers of gateway.yaml',
    'apps/wiki.yaml:13:9 policies[1].include[0].country: country rules need country_header in gateway.yaml',
    'apps/wiki.yaml:13:23 policies[1].include[0].country[1]: country "Germany" is not a two-letter code like DE',
    'apps/wiki.yaml:14:9 policies[1].include[1].valid_certificate: needs tls.client_ca in gateway.yaml',
    'apps/wiki.yaml:17:15 policies[2].issuers[0]: issuer "https://other.example" is not in token_issuers of gateway.yaml',
  ]);
});

t.test('hosts: lowercased, port and trailing dot dropped, wildcards become suffixes', async (t) => {
  const a = APP('wiki', 'Wiki.Corp.Example.:8443, "*.Apps.Corp.Example", "[::1]:8080", 10.0.0.1');
  const c = await load(t, setup(t, { 'wiki.yaml': a }));
  t.same(c.apps[0]!.hosts, ['wiki.corp.example', '.apps.corp.example', '[::1]', '10.0.0.1']);
  const bad = APP('bad', 'bad host, a_b.example, "a.*.example", "*.com.", "::1", "[zz]", wiki.example, WIKI.example, "-x.example"');
  t.same(await problems(setup(t, { 'bad.yaml': bad })), [
    'apps/bad.yaml:2:9 hosts[0]: "bad host" is not a valid host name (bad label "bad host"; letters, digits and "-" only)',
    'apps/bad.yaml:2:19 hosts[1]: "a_b.example" is not a valid host name (bad label "a_b"; letters, digits and "-" only)',
    'apps/bad.yaml:2:32 hosts[2]: "a.*.example": a wildcard is only allowed as the whole first label (*.corp.example)',
    'apps/bad.yaml:2:47 hosts[3]: "*.com.": a wildcard needs at least two labels after it (*.corp.example)',
    'apps/bad.yaml:2:57 hosts[4]: "::1": write an IPv6 host in brackets, e.g. [::1]',
    'apps/bad.yaml:2:64 hosts[5]: "[zz]" is not a valid IPv6 host (write [::1] or [::1]:8080)',
    'apps/bad.yaml:2:86 hosts[7]: "WIKI.example" is listed twice',
    'apps/bad.yaml:2:100 hosts[8]: "-x.example" is not a valid host name (bad label "-x"; letters, digits and "-" only)',
  ]);
});

t.test('paths: start with /, no dot or empty segments; trailing slash dropped', async (t) => {
  const ok = APP().replace('upstream:', 'paths: [/, /api/, /docs]\nupstream:');
  t.same((await load(t, setup(t, { 'wiki.yaml': ok }))).apps[0]!.paths, ['/', '/api', '/docs']);
  t.same((await load(t, setup(t, { 'wiki.yaml': APP() }))).apps[0]!.paths, ['/'], 'default [/]');
  const bad = APP().replace('upstream:', 'paths: [api, /a/../b, /%2e%2e/x, /a//b, "/a?x", /a%2fb, /api, /api/]\nupstream:');
  t.same(await problems(setup(t, { 'wiki.yaml': bad })), [
    'apps/wiki.yaml:3:9 paths[0]: must start with "/"',
    'apps/wiki.yaml:3:14 paths[1]: path "/a/../b" must not contain "." or ".." segments',
    'apps/wiki.yaml:3:23 paths[2]: path "/%2e%2e/x" must not contain "." or ".." segments',
    'apps/wiki.yaml:3:34 paths[3]: path "/a//b" must not contain empty segments ("//")',
    'apps/wiki.yaml:3:41 paths[4]: path "/a?x" must not contain spaces, control characters, "\\", "?" or "#"',
    'apps/wiki.yaml:3:49 paths[5]: path "/a%2fb" must not contain encoded slashes, backslashes or NUL',
    'apps/wiki.yaml:3:63 paths[7]: "/api/" is listed twice',
  ]);
});

t.test('two apps claiming the same host and path: one error naming both files', async (t) => {
  const files = {
    'a.yaml': APP('a', 'wiki.corp.example'),
    'b.yaml': APP('b', 'WIKI.corp.example:443').replace('upstream:', 'paths: [/, /api]\nupstream:'),
    'c.yaml': APP('c', 'wiki.corp.example').replace('upstream:', 'paths: [/docs]\nupstream:'),
    'd.yaml': APP('d', '"*.corp.example"'),
    'e.yaml': APP('a', 'other.example'),
  };
  t.same(await problems(setup(t, files)), [
    'apps/b.yaml:2:9 hosts[0]: wiki.corp.example/ is claimed by two apps: "a" in apps/a.yaml and "b" in apps/b.yaml',
    'apps/e.yaml:1:7 name: app name "a" is already used by apps/a.yaml',
  ]);
});

t.test('store: exactly one backend', async (t) => {
  const both = GATEWAY.replace('  sqlite: ./data/gh.db', '  sqlite: ./data/gh.db\n  postgres: postgres://u:p@db/gh?sslmode=require');
  const none = GATEWAY.replace('  sqlite: ./data/gh.db', '  queue_limit: 500');
  const badPg = GATEWAY.replace('  sqlite: ./data/gh.db', '  postgres: mysql://db/gh');
  const tlsNoPg = GATEWAY.replace('  sqlite: ./data/gh.db', '  sqlite: ":memory:"\n  postgres_tls: {reject_unauthorized: false}');
  t.same(await problems(setup(t, {}, both)), ['gateway.yaml:8:3 store: set exactly one of sqlite or postgres, not both']);
  t.same(await problems(setup(t, {}, none)), ['gateway.yaml:8:3 store: set one of sqlite (a file path) or postgres (a connection URL)']);
  t.same(await problems(setup(t, {}, badPg)), ['gateway.yaml:8:13 store.postgres: must be a postgres:// or postgresql:// connection URL']);
  t.same(await problems(setup(t, {}, tlsNoPg)), ['gateway.yaml:9:17 store.postgres_tls: applies only with store.postgres']);
  const pg = GATEWAY.replace('  sqlite: ./data/gh.db', '  postgres: postgresql://u:p@db/gh\n  postgres_tls: {ca: ca.pem}\n  queue_limit: 500');
  const c = await load(t, setup(t, {}, pg, { 'ca.pem': '-----BEGIN CERTIFICATE-----\n' }));
  t.same(c.store, { postgres: 'postgresql://u:p@db/gh', postgresTls: { ca: '-----BEGIN CERTIFICATE-----\n', rejectUnauthorized: true }, queueLimit: 500 });
  t.equal((await load(t, setup(t, {}, tlsNoPg.replace(/\n {2}postgres_tls.*/, '')))).store.sqlite, ':memory:');
});

t.test('secure_cookie: false only on a plain-http loopback listener', async (t) => {
  const insecure = (listen: string, extra = '') => GATEWAY.replace('127.0.0.1:8080', listen).replace('  keys: ./keys.json', '  keys: ./keys.json\n  secure_cookie: false') + extra;
  for (const l of ['127.0.0.1:8080', '"[::1]:8080"', 'localhost:8080', '127.9.9.9:80']) {
    t.equal((await load(t, setup(t, {}, insecure(l)))).session.secureCookie, false, l);
  }
  const msg = 'session.secure_cookie: false is only allowed when the data listener is plain http on a loopback address (127.0.0.1, ::1, localhost)';
  t.same(await problems(setup(t, {}, insecure('0.0.0.0:8080'))), [`gateway.yaml:7:18 ${msg}`]);
  t.same(await problems(setup(t, {}, insecure(':8080'))), [`gateway.yaml:7:18 ${msg}`]);
  const pem = '-----BEGIN X-----\n';
  const withTls = insecure('127.0.0.1:8443', 'tls: {cert: c.pem, key: c.pem}\n');
  t.same(await problems(setup(t, {}, withTls, { 'c.pem': pem })), [`gateway.yaml:7:18 ${msg}`]);
  t.equal((await load(t, setup(t, {}, GATEWAY))).session.secureCookie, true, 'default true');
});

t.test('listeners, scheme, limits and cookie domain', async (t) => {
  const gw = GATEWAY.replace('127.0.0.1:9901', '127.0.0.1:8080') + 'public_url_scheme: http\ntls: {cert: c.pem, key: c.pem}\nlimits:\n  headers_timeout: 0s\n  request_timeout: 10s\n';
  t.same(await problems(setup(t, {}, gw.replace('  cookie: gh', '  cookie: gh\n  cookie_domain: "bad domain"'), { 'c.pem': '-----BEGIN X-----\n' })), [
    'gateway.yaml:3:11 admin.listen: must differ from listen',
    'gateway.yaml:6:18 session.cookie_domain: must be a domain name, e.g. corp.example',
    'gateway.yaml:11:20 public_url_scheme: http contradicts tls (the listener speaks https)',
    'gateway.yaml:14:20 limits.headers_timeout: must be more than 0 (it holds off slowloris)',
  ]);
  const c = await load(t, setup(t, {}, `${GATEWAY.replace('  cookie: gh', '  cookie: gh\n  cookie_domain: .Corp.Example')}public_url_scheme: https\ncountry_header: CF-IPCountry\n`));
  t.equal(c.session.cookieDomain, 'corp.example');
  t.equal(c.publicScheme, 'https');
  t.equal(c.countryHeader, 'cf-ipcountry');
  t.same((await problems(setup(t, {}, `${GATEWAY}limits: {headers_timeout: 20s, request_timeout: 10s}\ncountry_header: "a b"\n`))), [
    'gateway.yaml:10:49 limits.request_timeout: must be at least headers_timeout (or 0s for none)',
    'gateway.yaml:11:17 country_header: must be a header name, e.g. cf-ipcountry',
  ]);
  t.same(await problems(setup(t, {}, GATEWAY.replace('127.0.0.1:8080', '127.0.0.1:99999'))), ['gateway.yaml:1:9 listen: port 99999 is out of range (0-65535)']);
  const zero = await load(t, setup(t, {}, GATEWAY.replace('127.0.0.1:8080', '127.0.0.1:0').replace('127.0.0.1:9901', '127.0.0.1:0')));
  t.equal(zero.listen.port, 0, 'port 0 (tests) is fine for both listeners');
  t.same((await load(t, setup(t, {}, GATEWAY.replace('127.0.0.1:8080', ':8080')))).listen, { host: '0.0.0.0', port: 8080 });
});

t.test('app settings that refer to the gateway', async (t) => {
  const gw = `${GATEWAY.replace('  cookie: gh', '  cookie: gh\n  duration: 8h')}identity_providers:\n  - {id: local, type: local_users, file: users.yaml}\n`;
  const a = APP().replace('upstream:', 'session_duration: 9h\nidentity_providers: [local, corp]\nwebsocket_origins: ["https://Chat.Example:443", "not a url", "https://x.example/path"]\nupstream:');
  t.same(await problems(setup(t, { 'wiki.yaml': a }, gw)), [
    'apps/wiki.yaml:3:19 session_duration: may only shorten session.duration (8h)',
    'apps/wiki.yaml:4:29 identity_providers[1]: no identity provider "corp" in gateway.yaml (configured: local)',
    'apps/wiki.yaml:5:49 websocket_origins[1]: "not a url" is not an origin like https://app.corp.example',
    'apps/wiki.yaml:5:62 websocket_origins[2]: "https://x.example/path" is not an origin like https://app.corp.example',
  ]);
  const good = APP().replace('upstream:', 'session_duration: 1h\nidentity_providers: [local]\nwebsocket_origins: ["https://Chat.Example:443"]\nupstream:');
  const c = await load(t, setup(t, { 'wiki.yaml': good }, gw));
  t.equal(c.apps[0]!.sessionDurationMs, 3_600_000);
  t.same(c.apps[0]!.identityProviders, ['local']);
  t.same(c.apps[0]!.websocketOrigins, ['https://chat.example']);
});

t.test('the apps directory must exist', async (t) => {
  const file = setup(t, {}, GATEWAY.replace('apps: ./apps', 'apps: ./nowhere'));
  const dir = file.replace(/\/gateway\.yaml$/, '');
  t.same(await problems(file), [`gateway.yaml:9:7 apps: cannot read directory ${dir}/nowhere: no such file`]);
});

t.test('the audience "gatehouse" is reserved: an assertion with it would verify as a session token', async (t) => {
  t.same(await problems(setup(t, { 'wiki.yaml': APP().replace('upstream:', 'audience: gatehouse\nupstream:') }), {}), [
    'apps/wiki.yaml:3:11 audience: audience "gatehouse" is reserved for the gateway\'s own session tokens: choose another',
  ]);
  t.match(await problems(setup(t, { 'gatehouse.yaml': APP('gatehouse') }), {}), [/gatehouse\.yaml:1:7 name: the app name "gatehouse" is reserved/]);
  t.same(await problems(setup(t, { 'gatehouse.yaml': APP('gatehouse').replace('upstream:', 'audience: gatehouse-app\nupstream:') }), {}), [], 'fine with an audience of its own');
});

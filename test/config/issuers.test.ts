// token_issuers, service_tokens and identity_providers: the credential rules of gateway.yaml.
import t from 'tap';
import { GATEWAY, load, problems, setup } from './fixture.js';

const SECRET = 'x'.repeat(32);
const issuers = (body: string) => `${GATEWAY}token_issuers:\n${body}`; // token_issuers: is line 10

t.test('a valid issuer of each kind, with defaults', async (t) => {
  const gw = issuers(`  - issuer: https://sso.example
    jwks: ./sso.jwks.json
    audience: gatehouse
    algorithms: [ES256, RS256]
  - issuer: https://remote.example
    jwks_uri: https://remote.example/jwks.json
    audience: [a, b]
    algorithms: [EdDSA]
    groups_claim: roles
    email_claim: mail
    clock_tolerance: 5s
    jwks_cooldown: 1m
  - issuer: local-dev
    jwks_uri: http://127.0.0.1:9000/jwks
    audience: dev
    algorithms: [PS256]
  - issuer: hmac
    secret: ${SECRET}
    audience: svc
    algorithms: [HS256, HS512]
`);
  const c = await load(t, setup(t, {}, gw, { 'sso.jwks.json': '{"keys":[]}' }));
  const [a, b, l, h] = c.tokenIssuers;
  t.match(a, { issuer: 'https://sso.example', audience: ['gatehouse'], algorithms: ['ES256', 'RS256'], groupsClaim: 'groups', emailClaim: 'email', clockToleranceSec: 30, jwksCooldownMs: 30_000 });
  t.match(a!.jwksFile, /\/sso\.jwks\.json$/);
  t.same(b, { issuer: 'https://remote.example', jwksUri: 'https://remote.example/jwks.json', audience: ['a', 'b'], algorithms: ['EdDSA'], groupsClaim: 'roles', emailClaim: 'mail', clockToleranceSec: 5, jwksCooldownMs: 60_000 });
  t.equal(l!.jwksUri, 'http://127.0.0.1:9000/jwks', 'http is fine on loopback');
  t.equal(h!.secret, SECRET);
});

t.test('algorithm rules: none, unknown, HS* beside asymmetric, key material that fits', async (t) => {
  const gw = issuers(`  - issuer: a
    jwks: ./k.json
    audience: x
    algorithms: [none, XS256, ES256]
  - issuer: b
    jwks: ./k.json
    audience: x
    algorithms: [HS256, RS256]
  - issuer: c
    jwks: ./k.json
    audience: x
    algorithms: [HS256]
  - issuer: d
    secret: ${SECRET}
    audience: x
    algorithms: [ES256]
  - issuer: e
    secret: short
    audience: x
    algorithms: [HS384]
`);
  t.same(await problems(setup(t, {}, gw, { 'k.json': '{}' })), [
    'gateway.yaml:14:18 token_issuers[0].algorithms[0]: "none" is never accepted (unsigned tokens)',
    'gateway.yaml:14:24 token_issuers[0].algorithms[1]: unknown algorithm "XS256" (one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, HS256, HS384, HS512)',
    'gateway.yaml:18:17 token_issuers[1].algorithms: HS256 cannot be combined with RS256 in one issuer (a public key must never verify as an HMAC secret)',
    'gateway.yaml:22:17 token_issuers[2].algorithms: HS256 needs secret',
    'gateway.yaml:24:13 token_issuers[3].secret: works only with HS256, HS384 or HS512',
    'gateway.yaml:26:17 token_issuers[3].algorithms: ES256 needs jwks or jwks_uri',
    'gateway.yaml:28:13 token_issuers[4].secret: must be at least 32 bytes (it is 5)',
  ]);
});

t.test('exactly one key source; unique issuers; jwks_uri https unless loopback; jwks file must exist', async (t) => {
  const gw = issuers(`  - issuer: a
    audience: x
    algorithms: [ES256]
  - issuer: a
    jwks: ./missing.json
    jwks_uri: https://a.example/jwks
    audience: x
    algorithms: [ES256]
  - issuer: c
    jwks_uri: http://idp.example/jwks
    audience: x
    algorithms: [ES256]
  - issuer: d
    jwks_uri: https://idp.example/jwks?x=1
    audience: x
    algorithms: [ES256]
`);
  const file = setup(t, {}, gw);
  const dir = file.replace(/\/gateway\.yaml$/, '');
  t.same(await problems(file), [
    'gateway.yaml:11:5 token_issuers[0]: set one of jwks (a file), jwks_uri (a URL) or secret (HMAC)',
    'gateway.yaml:13:17 token_issuers[0].algorithms: ES256 needs jwks or jwks_uri',
    'gateway.yaml:14:5 token_issuers[1]: set exactly one of jwks, jwks_uri or secret (found jwks and jwks_uri)',
    'gateway.yaml:14:13 token_issuers[1].issuer: issuer "a" is already configured in token_issuers[0]',
    `gateway.yaml:15:11 token_issuers[1].jwks: cannot read ${dir}/missing.json: no such file`,
    'gateway.yaml:20:15 token_issuers[2].jwks_uri: http://idp.example/jwks must use https:// (http:// is accepted only on a loopback host)',
    'gateway.yaml:24:15 token_issuers[3].jwks_uri: "https://idp.example/jwks?x=1" must not have a query (?) or fragment (#)',
  ]);
});

t.test('service tokens: unique names and client ids, expiry as epoch ms', async (t) => {
  const gw = `${GATEWAY}service_tokens:
  - {name: ci, client_id: ci-id, secret_hash: h1, expires_at: "2030-01-02T03:04:05Z"}
  - {name: ci, client_id: other, secret_hash: h2}
  - {name: deploy, client_id: ci-id, secret_hash: h3}
`;
  t.same(await problems(setup(t, {}, gw)), [
    'gateway.yaml:12:12 service_tokens[1].name: name "ci" is already used by service_tokens[0]',
    'gateway.yaml:13:31 service_tokens[2].client_id: client_id "ci-id" is already used by service_tokens[0]',
  ]);
  const c = await load(t, setup(t, {}, gw.split('\n').slice(0, 11).join('\n') + '\n'));
  t.same(c.serviceTokens, [{ name: 'ci', clientId: 'ci-id', secretHash: 'h1', expiresAt: Date.UTC(2030, 0, 2, 3, 4, 5) }]);
});

t.test('identity providers: oidc and local_users rules, defaults', async (t) => {
  const good = `${GATEWAY}identity_providers:
  - id: corp
    type: oidc
    issuer: https://login.corp.example
    client_id: gatehouse
    client_secret: s3cret
  - id: dev
    type: oidc
    name: Dev IdP
    issuer: http://localhost:9400
    client_id: gh
    client_secret: x
    scopes: [openid, groups]
    groups_claim: roles
    end_session: false
  - id: local
    type: local_users
    file: ./users.yaml
`;
  const c = await load(t, setup(t, {}, good));
  t.same(c.identityProviders[0], { id: 'corp', type: 'oidc', name: 'corp', issuer: 'https://login.corp.example', clientId: 'gatehouse', clientSecret: 's3cret', scopes: ['openid', 'email', 'profile'], groupsClaim: 'groups', endSession: true, backchannelLogout: false, refreshMaxStaleMs: 3_600_000 });
  t.match(c.identityProviders[1], { name: 'Dev IdP', scopes: ['openid', 'groups'], groupsClaim: 'roles', endSession: false });
  t.match(c.identityProviders[2], { id: 'local', type: 'local_users', scopes: [] });
  t.match(c.identityProviders[2]!.file, /\/users\.yaml$/);

  const bad = `${GATEWAY}identity_providers:
  - id: corp
    type: oidc
    issuer: http://login.corp.example
    client_id: gatehouse
    scopes: [email]
    file: x.yaml
  - id: corp
    type: local_users
    client_id: nope
  - id: Bad
    type: ldap
`;
  t.same(await problems(setup(t, {}, bad)), [
    'gateway.yaml:11:5 identity_providers[0]: an oidc provider needs client_secret',
    'gateway.yaml:13:13 identity_providers[0].issuer: http://login.corp.example must use https:// (http:// is accepted only on a loopback host)',
    'gateway.yaml:15:13 identity_providers[0].scopes: must include openid',
    'gateway.yaml:16:5 identity_providers[0].file: applies only to local_users providers',
    'gateway.yaml:17:5 identity_providers[1]: a local_users provider needs file (the users file)',
    'gateway.yaml:17:9 identity_providers[1].id: id "corp" is already used by identity_providers[0]',
    'gateway.yaml:19:5 identity_providers[1].client_id: applies only to oidc providers',
    'gateway.yaml:20:9 identity_providers[2].id: must be lowercase letters, digits, "-" and "_", starting with a letter or digit',
    'gateway.yaml:21:11 identity_providers[2].type: must be one of oidc, local_users (got "ldap")',
  ]);
});

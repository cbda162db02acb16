// ssf_receivers in gateway.yaml: resolved with defaults, and each mistake named with its position.
import t from 'tap';
import { GATEWAY, load, problems, setup } from './fixture.js';

t.test('ssf_receivers: defaults, a list audience, a local JWKS file', async (t) => {
  const gw = `${GATEWAY}ssf_receivers:
  - id: okta
    issuer: https://corp.okta.com
    jwks_uri: https://corp.okta.com/oauth2/v1/keys
    audience: https://gatehouse.corp.example/ssf
  - id: local-mdm
    issuer: https://mdm.corp.example
    jwks: ./mdm.jwks.json
    audience: [a, b]
    max_age: 2m
    clock_tolerance: 5s
`;
  const file = setup(t, {}, gw, { 'mdm.jwks.json': '{"keys":[]}' });
  const c = await load(t, file);
  t.match(c.ssfReceivers, [
    { id: 'okta', issuer: 'https://corp.okta.com', jwksUri: 'https://corp.okta.com/oauth2/v1/keys', audience: ['https://gatehouse.corp.example/ssf'], maxAgeMs: 300_000, clockToleranceSec: 30 },
    { id: 'local-mdm', jwksFile: /mdm\.jwks\.json$/, audience: ['a', 'b'], maxAgeMs: 120_000, clockToleranceSec: 5 },
  ]);
  t.same((await load(t, setup(t, {}, GATEWAY))).ssfReceivers, [], 'none by default');
});

t.test('ssf_receivers: precise errors', async (t) => {
  const gw = `${GATEWAY}ssf_receivers:
  - id: okta
    issuer: https://corp.okta.com
    audience: x
  - id: okta
    issuer: https://corp.okta.com
    jwks_uri: http://corp.okta.com/keys
    jwks: ./missing.json
    audience: x
    max_age: 0s
  - id: Bad Id
    issuer: https://x
    jwks_uri: https://x/keys
    audience: []
    colour: blue
`;
  const found = await problems(setup(t, {}, gw));
  const text = found.join('\n');
  t.match(text, /ssf_receivers\[0\]: set one of jwks_uri \(the transmitter's JWKS URL\) or jwks \(a local JWKS file\)/);
  t.match(text, /ssf_receivers\[1\]\.id: id "okta" is already used by ssf_receivers\[0\]/);
  t.match(text, /ssf_receivers\[1\]: set exactly one of jwks or jwks_uri, not both/);
  t.match(text, /ssf_receivers\[1\]\.jwks_uri: http:\/\/corp\.okta\.com\/keys must use https:\/\//);
  t.match(text, /ssf_receivers\[1\]\.jwks: cannot read .*missing\.json: no such file/);
  t.match(text, /ssf_receivers\[1\]\.max_age: must be more than 0/);
  t.match(text, /ssf_receivers\[2\]\.id/);
  t.match(text, /gateway\.yaml:24:5 unknown key "colour"/);
  t.match(text, /ssf_receivers\[2\]\.audience: must not be an empty list/);
  for (const line of found) t.match(line, /^gateway\.yaml:\d+:\d+ /, 'each with file:line:col');
});

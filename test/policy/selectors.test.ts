// Every selector, matched and not, through evaluate(): a matching include allows with reason
// `include[0] <label>: <detail>`; a miss denies with `p: include[0] <label>: <detail>`.
import t from 'tap';
import type { Identity, RequestFacts, RuleConfig } from '../../src/policy/types.js';
import { facts, one, person, service } from './fixtures/identities.js';
import { IDENTITY_SELECTORS } from '../../src/policy/evaluate.js';

interface Case {
  name: string;
  rule: RuleConfig;
  id: Identity | null;
  f?: RequestFacts;
  match: boolean;
  reason: string;
}

const cases: Case[] = [
  // everyone
  { name: 'everyone', rule: { everyone: true }, id: null, match: true, reason: 'include[0] everyone: matched' },

  // email: case-insensitive exact
  { name: 'email exact', rule: { email: 'alice@corp.example' }, id: person(), match: true, reason: 'include[0] email alice@corp.example: matched' },
  { name: 'email case-insensitive (config)', rule: { email: 'Alice@Corp.Example' }, id: person(), match: true, reason: 'include[0] email Alice@Corp.Example: matched' },
  { name: 'email case-insensitive (identity)', rule: { email: 'alice@corp.example' }, id: person({ email: 'ALICE@CORP.EXAMPLE' }), match: true, reason: 'include[0] email alice@corp.example: matched' },
  { name: 'email in list', rule: { email: ['bob@corp.example', 'alice@corp.example'] }, id: person(), match: true, reason: 'include[0] email [bob@corp.example, alice@corp.example]: matched' },
  { name: 'email other', rule: { email: 'bob@corp.example' }, id: person(), match: false, reason: 'p: include[0] email bob@corp.example: email is alice@corp.example' },
  { name: 'email is not a substring match', rule: { email: 'alice@corp.example' }, id: person({ email: 'malice@corp.example' }), match: false, reason: 'p: include[0] email alice@corp.example: email is malice@corp.example' },
  { name: 'email missing', rule: { email: 'alice@corp.example' }, id: person({ email: undefined }), match: false, reason: 'p: include[0] email alice@corp.example: identity has no email' },
  { name: 'email no identity', rule: { email: 'alice@corp.example' }, id: null, match: false, reason: 'p: include[0] email alice@corp.example: no identity' },

  // email_domain: after the LAST '@', exact, case-insensitive
  { name: 'domain exact', rule: { email_domain: 'corp.example' }, id: person(), match: true, reason: 'include[0] email_domain corp.example: matched' },
  { name: 'domain case-insensitive', rule: { email_domain: 'CORP.example' }, id: person({ email: 'Alice@Corp.EXAMPLE' }), match: true, reason: 'include[0] email_domain CORP.example: matched' },
  { name: 'domain other', rule: { email_domain: 'corp.example' }, id: person({ email: 'eve@evil.test' }), match: false, reason: 'p: include[0] email_domain corp.example: domain is evil.test' },
  { name: 'domain look-alike suffix', rule: { email_domain: 'corp.example' }, id: person({ email: 'eve@corp.example.evil.test' }), match: false, reason: 'p: include[0] email_domain corp.example: domain is corp.example.evil.test' },
  { name: 'domain look-alike subdomain', rule: { email_domain: 'corp.example' }, id: person({ email: 'eve@sub.corp.example' }), match: false, reason: 'p: include[0] email_domain corp.example: domain is sub.corp.example' },
  { name: 'domain look-alike prefix', rule: { email_domain: 'corp.example' }, id: person({ email: 'eve@evilcorp.example' }), match: false, reason: 'p: include[0] email_domain corp.example: domain is evilcorp.example' },
  { name: 'domain uses the last @', rule: { email_domain: 'corp.example' }, id: person({ email: '"eve@corp.example"@evil.test' }), match: false, reason: 'p: include[0] email_domain corp.example: domain is evil.test' },
  { name: 'domain last @ positive', rule: { email_domain: 'corp.example' }, id: person({ email: '"x@evil.test"@corp.example' }), match: true, reason: 'include[0] email_domain corp.example: matched' },
  { name: 'domain missing @', rule: { email_domain: 'corp.example' }, id: person({ email: 'corp.example' }), match: false, reason: 'p: include[0] email_domain corp.example: email has no domain' },
  { name: 'domain trailing @', rule: { email_domain: 'corp.example' }, id: person({ email: 'alice@' }), match: false, reason: 'p: include[0] email_domain corp.example: email has no domain' },
  { name: 'domain no email', rule: { email_domain: 'corp.example' }, id: person({ email: undefined }), match: false, reason: 'p: include[0] email_domain corp.example: identity has no email' },
  { name: 'domain no identity', rule: { email_domain: 'corp.example' }, id: null, match: false, reason: 'p: include[0] email_domain corp.example: no identity' },

  // group: any, case-sensitive
  { name: 'group', rule: { group: 'staff' }, id: person({ groups: ['sales', 'staff'] }), match: true, reason: 'include[0] group staff: matched' },
  { name: 'group any of list', rule: { group: ['admins', 'sales'] }, id: person({ groups: ['sales'] }), match: true, reason: 'include[0] group [admins, sales]: matched' },
  { name: 'group miss', rule: { group: 'staff' }, id: person({ groups: ['sales'] }), match: false, reason: 'p: include[0] group staff: not in [sales]' },
  { name: 'group case-sensitive', rule: { group: 'staff' }, id: person({ groups: ['Staff'] }), match: false, reason: 'p: include[0] group staff: not in [Staff]' },
  { name: 'group case-sensitive (config)', rule: { group: 'Staff' }, id: person({ groups: ['staff'] }), match: false, reason: 'p: include[0] group Staff: not in [staff]' },
  { name: 'group none', rule: { group: 'staff' }, id: person({ groups: [] }), match: false, reason: 'p: include[0] group staff: not in []' },
  { name: 'group no identity', rule: { group: 'staff' }, id: null, match: false, reason: 'p: include[0] group staff: no identity' },

  // idp
  { name: 'idp', rule: { idp: 'google' }, id: person(), match: true, reason: 'include[0] idp google: matched' },
  { name: 'idp miss', rule: { idp: 'okta' }, id: person(), match: false, reason: 'p: include[0] idp okta: idp is google' },
  { name: 'idp case-sensitive', rule: { idp: 'Google' }, id: person(), match: false, reason: 'p: include[0] idp Google: idp is google' },
  { name: 'idp missing', rule: { idp: 'okta' }, id: person({ idp: undefined }), match: false, reason: 'p: include[0] idp okta: identity has no idp' },
  { name: 'idp no identity', rule: { idp: 'okta' }, id: null, match: false, reason: 'p: include[0] idp okta: no identity' },

  // auth_method
  { name: 'auth_method', rule: { auth_method: 'mfa' }, id: person(), match: true, reason: 'include[0] auth_method mfa: matched' },
  { name: 'auth_method any', rule: { auth_method: ['hwk', 'mfa'] }, id: person(), match: true, reason: 'include[0] auth_method [hwk, mfa]: matched' },
  { name: 'auth_method miss', rule: { auth_method: 'mfa' }, id: person({ amr: ['pwd'] }), match: false, reason: 'p: include[0] auth_method mfa: not in [pwd]' },
  { name: 'auth_method no identity', rule: { auth_method: 'mfa' }, id: null, match: false, reason: 'p: include[0] auth_method mfa: no identity' },

  // ip
  { name: 'ip v4', rule: { ip: '10.0.0.0/8' }, id: null, match: true, reason: 'include[0] ip 10.0.0.0/8: 10.1.2.3 in range' },
  { name: 'ip v4 miss', rule: { ip: '10.0.0.0/8' }, id: null, f: facts({ clientIp: '192.0.2.1' }), match: false, reason: 'p: include[0] ip 10.0.0.0/8: 192.0.2.1 not in range' },
  { name: 'ip mapped', rule: { ip: '10.0.0.0/8' }, id: null, f: facts({ clientIp: '::ffff:10.1.2.3' }), match: true, reason: 'include[0] ip 10.0.0.0/8: ::ffff:10.1.2.3 in range' },
  { name: 'ip v6', rule: { ip: ['192.0.2.0/24', '2001:db8::/32'] }, id: null, f: facts({ clientIp: '2001:db8::7' }), match: true, reason: 'include[0] ip [192.0.2.0/24, 2001:db8::/32]: 2001:db8::7 in range' },
  { name: 'ip v6 miss', rule: { ip: '2001:db8::/32' }, id: null, f: facts({ clientIp: '2001:db9::7' }), match: false, reason: 'p: include[0] ip 2001:db8::/32: 2001:db9::7 not in range' },
  { name: 'ip garbage client', rule: { ip: '0.0.0.0/0' }, id: null, f: facts({ clientIp: 'unknown' }), match: false, reason: 'p: include[0] ip 0.0.0.0/0: "unknown" is not an IP address' },

  // country
  { name: 'country', rule: { country: ['CH', 'de'] }, id: null, f: facts({ country: 'DE' }), match: true, reason: 'include[0] country [CH, de]: matched' },
  { name: 'country lower-case fact', rule: { country: 'CH' }, id: null, f: facts({ country: 'ch' }), match: true, reason: 'include[0] country CH: matched' },
  { name: 'country miss', rule: { country: 'CH' }, id: null, f: facts({ country: 'FR' }), match: false, reason: 'p: include[0] country CH: country is FR' },
  { name: 'country unknown', rule: { country: 'CH' }, id: null, match: false, reason: 'p: include[0] country CH: country unknown' },

  // claim
  { name: 'claim string', rule: { claim: { name: 'tier', value: 'gold' } }, id: person({ claims: { tier: 'gold' } }), match: true, reason: 'include[0] claim tier="gold": matched' },
  { name: 'claim string exact', rule: { claim: { name: 'tier', value: 'gold' } }, id: person({ claims: { tier: 'Gold' } }), match: false, reason: 'p: include[0] claim tier="gold": value is "Gold"' },
  { name: 'claim dotted', rule: { claim: { name: 'org.team.name', value: 'infra' } }, id: person({ claims: { org: { team: { name: 'infra' } } } }), match: true, reason: 'include[0] claim org.team.name="infra": matched' },
  { name: 'claim dotted missing', rule: { claim: { name: 'org.team.name', value: 'infra' } }, id: person({ claims: { org: { dept: 'x' } } }), match: false, reason: 'p: include[0] claim org.team.name="infra": claim missing' },
  { name: 'claim dotted through scalar', rule: { claim: { name: 'org.team', value: 'infra' } }, id: person({ claims: { org: 'acme' } }), match: false, reason: 'p: include[0] claim org.team="infra": claim missing' },
  { name: 'claim deep path through scalar', rule: { claim: { name: 'a.b.c', value: 1 } }, id: person({ claims: { a: 7 } }), match: false, reason: 'p: include[0] claim a.b.c=1: claim missing' },
  { name: 'claim dotted through array', rule: { claim: { name: 'orgs.0', value: 'acme' } }, id: person({ claims: { orgs: ['acme'] } }), match: false, reason: 'p: include[0] claim orgs.0="acme": claim missing' },
  { name: 'claim key with dots (namespaced)', rule: { claim: { name: 'https://corp.example/roles', value: 'admin' } }, id: person({ claims: { 'https://corp.example/roles': ['admin'] } }), match: true, reason: 'include[0] claim https://corp.example/roles="admin": matched' },
  { name: 'claim nested key with dots', rule: { claim: { name: 'ext.https://corp.example/tier', value: 'gold' } }, id: person({ claims: { ext: { 'https://corp.example/tier': 'gold' } } }), match: true, reason: 'include[0] claim ext.https://corp.example/tier="gold": matched' },
  { name: 'claim array contains', rule: { claim: { name: 'roles', value: 'admin' } }, id: person({ claims: { roles: ['viewer', 'admin'] } }), match: true, reason: 'include[0] claim roles="admin": matched' },
  { name: 'claim array contains any listed', rule: { claim: { name: 'roles', value: ['owner', 'admin'] } }, id: person({ claims: { roles: ['admin'] } }), match: true, reason: 'include[0] claim roles=["owner", "admin"]: matched' },
  { name: 'claim array miss', rule: { claim: { name: 'roles', value: ['owner', 'admin'] } }, id: person({ claims: { roles: ['viewer'] } }), match: false, reason: 'p: include[0] claim roles=["owner", "admin"]: value is ["viewer"]' },
  { name: 'claim scalar in list', rule: { claim: { name: 'level', value: [3, 4] } }, id: person({ claims: { level: 4 } }), match: true, reason: 'include[0] claim level=[3, 4]: matched' },
  { name: 'claim number', rule: { claim: { name: 'level', value: 3 } }, id: person({ claims: { level: 3.0 } }), match: true, reason: 'include[0] claim level=3: matched' },
  { name: 'claim number is not its string', rule: { claim: { name: 'level', value: 3 } }, id: person({ claims: { level: '3' } }), match: false, reason: 'p: include[0] claim level=3: value is "3"' },
  { name: 'claim boolean', rule: { claim: { name: 'email_verified', value: true } }, id: person({ claims: { email_verified: true } }), match: true, reason: 'include[0] claim email_verified=true: matched' },
  { name: 'claim boolean false', rule: { claim: { name: 'email_verified', value: true } }, id: person({ claims: { email_verified: false } }), match: false, reason: 'p: include[0] claim email_verified=true: value is false' },
  { name: 'claim boolean is not its string', rule: { claim: { name: 'email_verified', value: true } }, id: person({ claims: { email_verified: 'true' } }), match: false, reason: 'p: include[0] claim email_verified=true: value is "true"' },
  { name: 'claim object never equals', rule: { claim: { name: 'org', value: 'acme' } }, id: person({ claims: { org: { name: 'acme' } } }), match: false, reason: 'p: include[0] claim org="acme": value is {"name":"acme"}' },
  { name: 'claim does not reach the prototype', rule: { claim: { name: 'constructor.name', value: 'Object' } }, id: person({ claims: {} }), match: false, reason: 'p: include[0] claim constructor.name="Object": claim missing' },
  { name: 'claim no identity', rule: { claim: { name: 'tier', value: 'gold' } }, id: null, match: false, reason: 'p: include[0] claim tier="gold": no identity' },

  // service_token
  { name: 'service_token', rule: { service_token: 'ci-bot' }, id: service('ci-bot'), match: true, reason: 'include[0] service_token ci-bot: matched' },
  { name: 'service_token other', rule: { service_token: 'ci-bot' }, id: service('deploy'), match: false, reason: 'p: include[0] service_token ci-bot: token is deploy' },
  { name: 'service_token needs a service identity', rule: { service_token: 'ci-bot' }, id: person({ serviceToken: 'ci-bot' }), match: false, reason: 'p: include[0] service_token ci-bot: not a service token (session)' },
  { name: 'service_token no identity', rule: { service_token: 'ci-bot' }, id: null, match: false, reason: 'p: include[0] service_token ci-bot: no identity' },

  // valid_certificate
  { name: 'valid_certificate', rule: { valid_certificate: true }, id: null, f: facts({ certificate: { verified: true, subject: 'CN=x' } }), match: true, reason: 'include[0] valid_certificate: matched' },
  { name: 'valid_certificate unverified', rule: { valid_certificate: true }, id: null, f: facts({ certificate: { verified: false } }), match: false, reason: 'p: include[0] valid_certificate: certificate not verified' },
  { name: 'valid_certificate absent', rule: { valid_certificate: true }, id: null, match: false, reason: 'p: include[0] valid_certificate: no client certificate' },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    // An allow policy only ever admits a signed-in caller, so selectors that do not look at the
    // identity are exercised with one; identity selectors keep their anonymous cases.
    const identitySelector = (IDENTITY_SELECTORS as readonly string[]).includes(Object.keys(c.rule)[0] as string);
    const id = c.id === null && !identitySelector ? person() : c.id;
    const d = one(c.rule, id, c.f ?? facts());
    t.equal(d.outcome, c.match ? 'allow' : 'deny', 'outcome');
    t.equal(d.policy, c.match ? 'p' : null, 'policy');
    t.equal(d.reason, c.match ? 'policy_allow' : 'no_policy_matched', 'reason code');
    t.same(d.reasons, id === null ? ['p: caller: no identity (allow needs a signed-in caller)', c.reason] : [c.reason], 'reasons');
  });
}

t.test('allow never admits an anonymous caller, not even with everyone: true', async (t) => {
  const d = one({ everyone: true }, null, facts());
  t.equal(d.outcome, 'deny');
  t.equal(d.reason, 'no_policy_matched');
  t.match(d.reasons[0], /no identity/);
});

t.test('a rule with several selectors ANDs them', async (t) => {
  const both = one({ email_domain: 'corp.example', group: 'staff' } as RuleConfig, person());
  t.equal(both.outcome, 'allow');
  t.same(both.reasons, ['include[0] email_domain corp.example: matched; group staff: matched']);
  const half = one({ email_domain: 'corp.example', group: 'admins' } as RuleConfig, person());
  t.equal(half.outcome, 'deny');
  t.same(half.reasons, ['p: include[0] email_domain corp.example: matched; group admins: not in [staff]']);
});

t.test('long identity lists are capped in reasons', async (t) => {
  const groups = Array.from({ length: 25 }, (_, i) => `g${i}`);
  const d = one({ group: 'staff' }, person({ groups }));
  t.equal(d.reasons[0], 'p: include[0] group staff: not in [g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, … +15 more]');
  const big = one({ claim: { name: 'blob', value: 'x' } }, person({ claims: { blob: 'y'.repeat(500) } }));
  t.ok(big.reasons[0]!.length < 200, 'claim value preview capped');
  t.match(big.reasons[0], /…$/);
});

t.test('claim values that cannot be JSON still get a reason', async (t) => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const d = one({ claim: { name: 'c', value: 'x' } }, person({ claims: { c: circular } }));
  t.same(d.reasons, ['p: include[0] claim c="x": value is [object Object]']);
  const big = one({ claim: { name: 'n', value: 1 } }, person({ claims: { n: 10n } }));
  t.same(big.reasons, ['p: include[0] claim n=1: value is 10']);
});

t.test('defensive shapes: missing claims, odd claim values, unnamed service token', async (t) => {
  const noClaims = person({ claims: undefined as unknown as Record<string, unknown> });
  t.same(one({ claim: { name: 'a', value: 1 } }, noClaims).reasons, ['p: include[0] claim a=1: claim missing']);
  const fn = one({ claim: { name: 'f', value: 1 } }, person({ claims: { f: () => 1 } }));
  t.equal(fn.outcome, 'deny');
  t.match(fn.reasons[0], /^p: include\[0\] claim f=1: value is \(\) => 1$/);
  const noGroups = person({ groups: undefined as unknown as string[] });
  t.same(one({ group: 'staff' }, noGroups).reasons, ['p: include[0] group staff: not in []']);
  const unnamed = service('x', { serviceToken: undefined });
  t.same(one({ service_token: 'x' }, unnamed).reasons, ['p: include[0] service_token x: token is (unnamed)']);
});

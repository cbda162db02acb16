import t from 'tap';
import { IDENTITY_SELECTORS, compilePolicies, evaluate } from '../../src/policy/evaluate.js';
import type { PolicyConfig, RuleConfig } from '../../src/policy/types.js';
import { facts, person, run, service } from './fixtures/identities.js';

const staff: RuleConfig = { group: 'staff' };
const corp: RuleConfig = { email_domain: 'corp.example' };

t.test('include: any rule matches', async (t) => {
  const p: PolicyConfig[] = [{ name: 'a', action: 'allow', include: [{ email: 'bob@corp.example' }, staff] }];
  const d = run(p, person());
  t.equal(d.outcome, 'allow');
  t.same(d.reasons, ['include[0] email bob@corp.example: email is alice@corp.example', 'include[1] group staff: matched']);
  t.equal(run(p, person({ groups: [] })).outcome, 'deny');
});

t.test('include missing or empty matches nobody, even with require', async (t) => {
  for (const include of [undefined, []]) {
    const d = run([{ name: 'a', action: 'allow', include, require: [{ everyone: true }] }], person());
    t.equal(d.outcome, 'deny');
    t.equal(d.reason, 'no_policy_matched');
    t.same(d.reasons, ['a: include is empty: matches nobody', 'a: require[0] everyone: matched']);
  }
});

t.test('require: every rule must match', async (t) => {
  const p: PolicyConfig[] = [{ name: 'allow-staff', action: 'allow', include: [corp], require: [staff, { auth_method: 'mfa' }] }];
  t.equal(run(p, person()).outcome, 'allow');
  const d = run(p, person({ groups: ['sales'] }));
  t.equal(d.outcome, 'deny');
  t.same(d.reasons, [
    'allow-staff: include[0] email_domain corp.example: matched',
    'allow-staff: require[0] group staff: not in [sales]',
    'allow-staff: require[1] auth_method mfa: matched',
  ]);
  t.equal(run(p, person({ amr: ['pwd'] })).outcome, 'deny');
});

t.test('exclude: no rule may match', async (t) => {
  const p: PolicyConfig[] = [{ name: 'a', action: 'allow', include: [corp], exclude: [{ email: 'mallory@corp.example' }, { ip: '10.0.0.0/8' }] }];
  t.equal(run(p, person(), facts({ clientIp: '192.0.2.1' })).outcome, 'allow');
  const byIp = run(p, person());
  t.equal(byIp.outcome, 'deny');
  t.ok(byIp.reasons.includes('a: exclude[1] ip 10.0.0.0/8: 10.1.2.3 in range'));
  t.equal(run(p, person({ email: 'Mallory@corp.example' }), facts({ clientIp: '192.0.2.1' })).outcome, 'deny');
});

t.test('deny policies are evaluated before allow policies whatever the file order', async (t) => {
  const p: PolicyConfig[] = [
    { name: 'allow-corp', action: 'allow', include: [corp] },
    { name: 'deny-contractors', action: 'deny', include: [{ group: 'contractors' }] },
  ];
  const d = run(p, person({ groups: ['contractors'] }));
  t.equal(d.outcome, 'deny');
  t.equal(d.policy, 'deny-contractors');
  t.equal(d.action, 'deny');
  t.equal(d.reason, 'policy_deny');
  t.same(d.reasons, ['include[0] group contractors: matched']);
  const ok = run(p, person());
  t.equal(ok.outcome, 'allow');
  t.equal(ok.policy, 'allow-corp');
  t.equal(ok.reason, 'policy_allow');
});

t.test('bypass and service_auth come first, in file order', async (t) => {
  const p: PolicyConfig[] = [
    { name: 'deny-all', action: 'deny', include: [{ everyone: true }] },
    { name: 'svc', action: 'service_auth', include: [{ service_token: 'ci-bot' }] },
    { name: 'health', action: 'bypass', include: [{ ip: '10.0.0.0/8' }] },
  ];
  const anon = run(p, null);
  t.equal(anon.outcome, 'bypass');
  t.equal(anon.policy, 'health');
  t.equal(anon.reason, 'policy_bypass');
  t.same(anon.reasons, ['include[0] ip 10.0.0.0/8: 10.1.2.3 in range']);

  const bot = run(p, service('ci-bot'));
  t.equal(bot.outcome, 'allow', 'svc (earlier in file) wins over bypass');
  t.equal(bot.policy, 'svc');
  t.equal(bot.action, 'service_auth');
  t.equal(bot.reason, 'service_auth');
  t.same(bot.reasons, ['caller: service token ci-bot', 'include[0] service_token ci-bot: matched']);

  const outside = run(p, null, facts({ clientIp: '192.0.2.1' }));
  t.equal(outside.policy, 'deny-all');
  t.equal(outside.outcome, 'deny');

  // Reverse the two first-rank policies: file order decides between them.
  const swapped = run([p[0]!, p[2]!, p[1]!], service('ci-bot'));
  t.equal(swapped.policy, 'health');
});

t.test('bypass evaluates rules with or without identity', async (t) => {
  const p: PolicyConfig[] = [{ name: 'public', action: 'bypass', include: [{ everyone: true }], exclude: [{ country: 'KP' }] }];
  t.equal(run(p, null).outcome, 'bypass');
  t.equal(run(p, person()).outcome, 'bypass');
  t.equal(run(p, null, facts({ country: 'kp' })).outcome, 'deny');
});

t.test('service_auth applies to service tokens and listed issuers only', async (t) => {
  const p: PolicyConfig[] = [
    { name: 'machines', action: 'service_auth', issuers: ['https://ci.example'], include: [{ everyone: true }] },
  ];
  t.equal(run(p, service('anything')).outcome, 'allow');
  t.same(run(p, service('x', { serviceToken: undefined, subject: 'svc-sub' })).reasons[0], 'caller: service token svc-sub');
  const ext = run(p, person({ kind: 'token', issuer: 'https://ci.example' }));
  t.equal(ext.outcome, 'allow');
  t.equal(ext.reason, 'service_auth');
  t.same(ext.reasons, ['caller: issuer https://ci.example accepted', 'include[0] everyone: matched']);

  const user = run(p, person());
  t.equal(user.outcome, 'deny');
  t.equal(user.reason, 'no_policy_matched');
  t.same(user.reasons, [
    'machines: caller: session from gatehouse is not a service token or from an accepted issuer',
    'machines: include[0] everyone: matched',
  ]);
  const other = run(p, person({ kind: 'token', issuer: 'https://other.example' }));
  t.equal(other.outcome, 'deny');
  t.same(run(p, null).reasons, ['machines: caller: no identity', 'machines: include[0] everyone: matched']);

  const noIssuers = run([{ name: 's', action: 'service_auth', include: [{ everyone: true }] }], person());
  t.same(noIssuers.reasons[0], 's: caller: session from gatehouse is not a service token');
  // issuers on a non-service_auth policy are ignored (the caller check is service_auth's).
  t.equal(run([{ name: 'a', action: 'allow', issuers: ['x'], include: [{ everyone: true }] }], person()).outcome, 'allow');
});

t.test('service_auth rules still have to match', async (t) => {
  const p: PolicyConfig[] = [{ name: 'svc', action: 'service_auth', include: [{ service_token: ['ci-bot'] }], exclude: [{ country: 'RU' }] }];
  t.equal(run(p, service('ci-bot')).outcome, 'allow');
  t.equal(run(p, service('deploy')).outcome, 'deny');
  t.equal(run(p, service('ci-bot'), facts({ country: 'RU' })).outcome, 'deny');
});

t.test('nothing matched: deny with every policy\'s reasons', async (t) => {
  const p: PolicyConfig[] = [
    { name: 'allow-staff', action: 'allow', include: [corp], require: [staff] },
    { name: 'deny-evil', action: 'deny', include: [{ email_domain: 'evil.test' }] },
  ];
  const d = run(p, person({ groups: ['sales'] }));
  t.same(d, {
    outcome: 'deny',
    policy: null,
    action: null,
    reason: 'no_policy_matched',
    reasons: [
      'deny-evil: include[0] email_domain evil.test: domain is corp.example',
      'allow-staff: include[0] email_domain corp.example: matched',
      'allow-staff: require[0] group staff: not in [sales]',
    ],
    explanation: [],
  });
  t.same(run([], person()).reasons, ['no policies']);
  t.equal(run([], person()).outcome, 'deny');
});

t.test('explain: one entry per policy in evaluation order; unreached ones marked', async (t) => {
  const p: PolicyConfig[] = [
    { name: 'allow-staff', action: 'allow', include: [staff] },
    { name: 'deny-sales', action: 'deny', include: [{ group: 'sales' }] },
    { name: 'svc', action: 'service_auth', include: [{ service_token: 'ci' }] },
    { name: 'allow-late', action: 'allow', include: [{ everyone: true }] },
  ];
  const d = run(p, person(), facts(), true);
  t.equal(d.policy, 'allow-staff');
  t.same(d.reasons, ['include[0] group staff: matched']);
  t.same(d.explanation, [
    {
      policy: 'svc',
      action: 'service_auth',
      matched: false,
      evaluated: true,
      note: 'caller: session from gatehouse is not a service token',
      rules: [{ clause: 'include', index: 0, selector: 'service_token', matched: false, reason: 'include[0] service_token ci: not a service token (session)' }],
    },
    {
      policy: 'deny-sales',
      action: 'deny',
      matched: false,
      evaluated: true,
      rules: [{ clause: 'include', index: 0, selector: 'group', matched: false, reason: 'include[0] group sales: not in [staff]' }],
    },
    {
      policy: 'allow-staff',
      action: 'allow',
      matched: true,
      evaluated: true,
      rules: [{ clause: 'include', index: 0, selector: 'group', matched: true, reason: 'include[0] group staff: matched' }],
    },
    { policy: 'allow-late', action: 'allow', matched: false, evaluated: false, rules: [] },
  ]);
  t.same(run(p, person(), facts(), false).explanation, [], 'no explanation unless asked');
  t.same(evaluate(compilePolicies(p), person(), facts()).explanation, [], 'opts omitted');
});

t.test('explain lists every rule, including ones after the first matching include', async (t) => {
  const p: PolicyConfig[] = [{ name: 'a', action: 'allow', include: [{ everyone: true }, { email: 'x@y.z' }], require: [staff], exclude: [{ ip: '192.0.2.0/24' }] }];
  const d = run(p, person(), facts(), true);
  t.equal(d.outcome, 'allow');
  const rules = d.explanation[0]!.rules;
  t.same(rules.map((r) => [r.clause, r.index, r.selector, r.matched]), [
    ['include', 0, 'everyone', true],
    ['include', 1, 'email', false],
    ['require', 0, 'group', true],
    ['exclude', 0, 'ip', false],
  ]);
  t.same(d.reasons, rules.map((r) => r.reason), 'reasons are the deciding policy\'s rule reasons');
  t.same(run(p, person()).reasons, d.reasons, 'same reasons without explain');
});

t.test('explain with nothing matched: reasons from every policy, all evaluated', async (t) => {
  const p: PolicyConfig[] = [
    { name: 'a', action: 'allow', include: [staff] },
    { name: 'b', action: 'allow', include: [] },
  ];
  const d = run(p, person({ groups: [] }), facts(), true);
  t.equal(d.reason, 'no_policy_matched');
  t.same(d.reasons, ['a: include[0] group staff: not in []', 'b: include is empty: matches nobody']);
  t.same(d.explanation.map((e) => [e.policy, e.evaluated, e.matched, e.note]), [
    ['a', true, false, undefined],
    ['b', true, false, 'include is empty: matches nobody'],
  ]);
});

t.test('identity selectors never match without an identity', async (t) => {
  t.same([...IDENTITY_SELECTORS].sort(), ['auth_method', 'claim', 'device', 'email', 'email_domain', 'group', 'idp', 'service_token']);
  const rules: Record<string, RuleConfig> = {
    email: { email: 'a@b.c' },
    email_domain: { email_domain: 'b.c' },
    group: { group: 'g' },
    idp: { idp: 'i' },
    auth_method: { auth_method: 'pwd' },
    claim: { claim: { name: 'x', value: 1 } },
    service_token: { service_token: 's' },
    device: { device: 'enrolled' },
  };
  for (const sel of IDENTITY_SELECTORS) {
    const d = run([{ name: 'p', action: 'bypass', include: [{ everyone: true }], exclude: [rules[sel]!] }], null);
    t.equal(d.outcome, 'bypass', `${sel} in exclude does not match`);
    t.match(d.reasons[1], new RegExp(`^exclude\\[0\\] ${sel} .*: no identity$`), sel);
  }
});

t.test('compilePolicies refuses unusable input, naming the place', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [[{ name: 'a', action: 'allow', include: [{ ip: '10.0.0.0/33' }] }], /^policy "a" include\[0\] ip: bad CIDR "10\.0\.0\.0\/33": prefix length must be 0-32$/],
    [[{ name: 'a', action: 'allow', include: [{ emial: 'x' }] }], /^policy "a" include\[0\]: unknown selector "emial"$/],
    [[{ name: 'a', action: 'allow', include: [{}] }], /empty rule/],
    [[{ name: 'a', action: 'allow', include: ['everyone'] }], /a rule must be an object/],
    [[{ name: 'a', action: 'allow', include: { everyone: true } }], /include: must be a list/],
    [[{ name: 'a', action: 'permit', include: [] }], /unknown action "permit"/],
    [[{ name: '', action: 'allow' }], /policy #1: name/],
    [[null], /policy #1: must be an object/],
    [[{ name: 'a', action: 'service_auth', issuers: 'x' }], /issuers must be a list/],
    [[{ name: 'a', action: 'allow', require: [{ email: [] }] }], /require\[0\] email: must not be an empty list/],
    [[{ name: 'a', action: 'allow', include: [{ group: ['ok', 3] }] }], /group: must be a non-empty string/],
    [[{ name: 'a', action: 'allow', include: [{ email_domain: '@corp.example' }] }], /must be a bare domain/],
    [[{ name: 'a', action: 'allow', include: [{ everyone: false }] }], /everyone: must be true/],
    [[{ name: 'a', action: 'allow', include: [{ valid_certificate: 'yes' }] }], /valid_certificate: must be true/],
    [[{ name: 'a', action: 'allow', include: [{ claim: 'x' }] }], /claim: must be an object/],
    [[{ name: 'a', action: 'allow', include: [{ claim: { name: 'a..b', value: 1 } }] }], /claim name/],
    [[{ name: 'a', action: 'allow', include: [{ claim: { name: 'x', value: [] } }] }], /must not be an empty list/],
    [[{ name: 'a', action: 'allow', include: [{ claim: { name: 'x', value: { y: 1 } } }] }], /string, number or boolean/],
    [[{ name: 'a', action: 'allow', include: [{ claim: { name: 'x', value: NaN } }] }], /string, number or boolean/],
    ['nope', /policies must be a list/],
  ];
  for (const [input, message] of bad) {
    t.throws(() => compilePolicies(input as PolicyConfig[]), { message }, String(message));
  }
  t.doesNotThrow(() => compilePolicies([{ name: 'a', action: 'allow', include: [{ email: undefined, group: 'x' }] }]), 'undefined keys are skipped');
});

t.test('compiled policies are frozen and reusable', async (t) => {
  const c = compilePolicies([{ name: 'a', action: 'allow', include: [staff] }]);
  t.ok(Object.isFrozen(c));
  t.ok(Object.isFrozen(c.ordered));
  for (let i = 0; i < 3; i++) {
    t.equal(evaluate(c, person(), facts()).outcome, 'allow');
    t.equal(evaluate(c, person({ groups: [] }), facts()).outcome, 'deny');
  }
});

t.test('explain and fast path always agree (random policies and callers)', async (t) => {
  // Small pseudo-random generator so the run is repeatable.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 16) % n; // low bits of an LCG cycle; use the high ones
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const ruleChoices: RuleConfig[] = [
    { everyone: true }, staff, { group: 'sales' }, corp, { email: 'bob@corp.example' }, { ip: '10.0.0.0/8' },
    { ip: '2001:db8::/32' }, { country: 'CH' }, { auth_method: 'mfa' }, { claim: { name: 'org.tier', value: 'gold' } },
    { service_token: 'ci' }, { valid_certificate: true }, { idp: 'google' },
  ];
  const actions = ['allow', 'deny', 'bypass', 'service_auth'] as const;
  const rules = (): RuleConfig[] => Array.from({ length: rnd(3) }, () => pick(ruleChoices));
  const callers = [
    null, person(), person({ groups: ['sales'], amr: ['pwd'] }), person({ email: 'bob@corp.example', claims: { org: { tier: 'gold' } } }),
    service('ci'), person({ kind: 'token', issuer: 'https://iss' }),
  ];
  const factChoices = [facts(), facts({ clientIp: '2001:db8::1', country: 'CH' }), facts({ clientIp: '192.0.2.1', certificate: { verified: true } })];
  const outcomes = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const policies: PolicyConfig[] = Array.from({ length: 1 + rnd(4) }, (_, k) => ({
      name: `p${k}`, action: pick(actions), include: rules(), require: rules(), exclude: rules(),
      ...(rnd(2) ? { issuers: ['https://iss'] } : {}),
    }));
    const c = compilePolicies(policies);
    const who = pick(callers);
    const f = pick(factChoices);
    const fast = evaluate(c, who, f);
    const slow = evaluate(c, who, f, { explain: true });
    const { explanation, ...rest } = slow;
    if (JSON.stringify(fast) !== JSON.stringify({ ...rest, explanation: [] })) {
      t.fail('fast and explained decisions differ', { policies, who, f, fast, slow });
      return;
    }
    // The explanation agrees with the decision: the decider is the only matched entry.
    const matched = explanation.filter((e) => e.matched).map((e) => e.policy);
    if (JSON.stringify(matched) !== JSON.stringify(slow.policy === null ? [] : [slow.policy])) {
      t.fail('explanation disagrees with decision', { policies, slow });
      return;
    }
    outcomes.add(slow.reason);
  }
  t.same([...outcomes].sort(), ['no_policy_matched', 'policy_allow', 'policy_bypass', 'policy_deny', 'service_auth'], 'every outcome was exercised');
});

t.test('quiet: requests let through share one reason-less decision; denials keep their reasons', async (t) => {
  const compiled = compilePolicies([
    { name: 'no-contractors', action: 'deny', include: [{ group: 'contractors' }] },
    { name: 'staff', action: 'allow', include: [{ group: 'staff' }] },
  ]);
  const staff = person({ groups: ['staff'] });
  const a = evaluate(compiled, staff, facts(), { quiet: true });
  const b = evaluate(compiled, person({ groups: ['staff'], email: 'other@corp.example' }), facts(), { quiet: true });
  t.equal(a, b, 'the same frozen object: no allocation per request');
  t.ok(Object.isFrozen(a));
  t.match(a, { outcome: 'allow', policy: 'staff', reason: 'policy_allow', reasons: [] });
  t.same(evaluate(compiled, staff, facts()).reasons, ['include[0] group staff: matched'], 'without quiet the reasons are there');
  const denied = evaluate(compiled, person({ groups: ['contractors', 'staff'] }), facts(), { quiet: true });
  t.match(denied, { outcome: 'deny', policy: 'no-contractors', reasons: ['include[0] group contractors: matched'] });
  const none = evaluate(compiled, person({ groups: ['sales'] }), facts(), { quiet: true });
  t.match(none, { reason: 'no_policy_matched', reasons: [/not in \[sales\]/, /not in \[sales\]/] });
});

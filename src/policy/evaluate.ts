// Pure policy evaluation: (compiled policies, identity, request facts) → decision with reasons.
// Imports nothing of the gateway outside src/policy.
//
// compilePolicies() does all the work the config determines (sets, lowercasing, CIDR parsing,
// evaluation order). evaluate() then makes a boolean pass that allocates nothing, and builds
// reason strings only for the deciding policy (or for every policy when none matched, or when an
// explanation is asked for).
import { IDENTITY_SELECTORS, SELECTORS, isSelectorName, type SelectorMatcher } from './selectors.js';
import type {
  Action,
  Clause,
  Decision,
  Identity,
  PolicyConfig,
  PolicyExplanation,
  PolicyReason,
  RequestFacts,
  RuleResult,
} from './types.js';

export { IDENTITY_SELECTORS };

export interface CompiledRule {
  readonly clause: Clause;
  readonly index: number;
  /** The selector name; several ANDed selectors in one rule are joined with '+'. */
  readonly selector: string;
  /** `include[0] `, prepended to the reason. */
  readonly prefix: string;
  readonly parts: readonly SelectorMatcher[];
}

export interface CompiledPolicy {
  readonly name: string;
  readonly action: Action;
  readonly include: readonly CompiledRule[];
  readonly require: readonly CompiledRule[];
  readonly exclude: readonly CompiledRule[];
  /** service_auth: token issuers accepted besides service tokens (empty otherwise). */
  readonly issuers: ReadonlySet<string>;
}

/** Precompiled policies of one app. Build with compilePolicies(); treat as opaque. */
export interface CompiledPolicies {
  /** Evaluation order: service_auth and bypass (file order), then deny, then allow. */
  readonly ordered: readonly CompiledPolicy[];
}

const RANK: Record<Action, number> = { service_auth: 0, bypass: 0, deny: 1, allow: 2 };

const RESULT: Record<Action, { outcome: Decision['outcome']; reason: PolicyReason }> = {
  allow: { outcome: 'allow', reason: 'policy_allow' },
  deny: { outcome: 'deny', reason: 'policy_deny' },
  bypass: { outcome: 'bypass', reason: 'policy_bypass' },
  service_auth: { outcome: 'allow', reason: 'service_auth' },
};

// ---- compile ----

function compileRule(where: string, clause: Clause, index: number, rule: unknown): CompiledRule {
  const at = `${where} ${clause}[${index}]`;
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
    throw new Error(`${at}: a rule must be an object with one selector`);
  }
  const parts: SelectorMatcher[] = [];
  const names: string[] = [];
  for (const [key, value] of Object.entries(rule)) {
    if (value === undefined) continue;
    if (!isSelectorName(key)) throw new Error(`${at}: unknown selector ${JSON.stringify(key)}`);
    try {
      parts.push(SELECTORS[key](value));
    } catch (e) {
      throw new Error(`${at} ${key}: ${(e as Error).message}`);
    }
    names.push(key);
  }
  // An empty rule is refused rather than read as "matches": in include it would admit everyone.
  if (parts.length === 0) throw new Error(`${at}: empty rule (needs one selector)`);
  return Object.freeze({ clause, index, selector: names.join('+'), prefix: `${clause}[${index}] `, parts: Object.freeze(parts) });
}

function compileClause(where: string, clause: Clause, rules: unknown): readonly CompiledRule[] {
  if (rules === undefined || rules === null) return Object.freeze([]);
  if (!Array.isArray(rules)) throw new Error(`${where} ${clause}: must be a list of rules`);
  return Object.freeze(rules.map((r, i) => compileRule(where, clause, i, r)));
}

function compilePolicy(p: PolicyConfig, position: number): CompiledPolicy {
  if (p === null || typeof p !== 'object') throw new Error(`policy #${position + 1}: must be an object`);
  if (typeof p.name !== 'string' || p.name === '') throw new Error(`policy #${position + 1}: name must be a non-empty string`);
  const where = `policy ${JSON.stringify(p.name)}`;
  if (!Object.hasOwn(RANK, p.action)) throw new Error(`${where}: unknown action ${JSON.stringify(p.action)}`);
  const issuers = p.issuers ?? [];
  if (!Array.isArray(issuers) || !issuers.every((s) => typeof s === 'string')) {
    throw new Error(`${where}: issuers must be a list of issuer URLs`);
  }
  return Object.freeze({
    name: p.name,
    action: p.action,
    include: compileClause(where, 'include', p.include),
    require: compileClause(where, 'require', p.require),
    exclude: compileClause(where, 'exclude', p.exclude),
    issuers: new Set(p.action === 'service_auth' ? issuers : []),
  });
}

/** Compiles an app's policies. Throws an Error naming the policy and rule on invalid input. */
export function compilePolicies(policies: PolicyConfig[]): CompiledPolicies {
  if (!Array.isArray(policies)) throw new Error('policies must be a list');
  const compiled = policies.map(compilePolicy);
  // Array.prototype.sort is stable, so file order holds within a rank.
  const ordered = [...compiled].sort((a, b) => RANK[a.action] - RANK[b.action]);
  return Object.freeze({ ordered: Object.freeze(ordered) });
}

// ---- the boolean pass (hot path: no allocation) ----

function ruleMatches(r: CompiledRule, id: Identity | null, f: RequestFacts): boolean {
  for (let i = 0; i < r.parts.length; i++) if (!r.parts[i]!.match(id, f)) return false;
  return true;
}

/**
 * service_auth applies only to service tokens and tokens from the policy's issuers; allow only to
 * callers with a verified identity — `allow: everyone` means every signed-in user, never an
 * anonymous caller (that is what bypass is for).
 */
function callerAccepted(p: CompiledPolicy, id: Identity | null): boolean {
  if (p.action === 'allow') return id !== null;
  return p.action !== 'service_auth' || (id !== null && (id.kind === 'service' || p.issuers.has(id.issuer)));
}

function policyMatches(p: CompiledPolicy, id: Identity | null, f: RequestFacts): boolean {
  if (!callerAccepted(p, id)) return false;
  let included = false;
  for (let i = 0; i < p.include.length; i++) {
    if (ruleMatches(p.include[i]!, id, f)) {
      included = true;
      break;
    }
  }
  if (!included) return false;
  for (let i = 0; i < p.require.length; i++) if (!ruleMatches(p.require[i]!, id, f)) return false;
  for (let i = 0; i < p.exclude.length; i++) if (ruleMatches(p.exclude[i]!, id, f)) return false;
  return true;
}

// ---- the reason pass ----

function ruleResult(r: CompiledRule, id: Identity | null, f: RequestFacts): RuleResult {
  let matched = true;
  let text = '';
  for (let i = 0; i < r.parts.length; i++) {
    const part = r.parts[i]!;
    const m = part.match(id, f);
    matched &&= m;
    text += `${i > 0 ? '; ' : ''}${part.label}: ${part.describe(id, f, m)}`;
  }
  return { clause: r.clause, index: r.index, selector: r.selector, matched, reason: r.prefix + text };
}

function callerNote(p: CompiledPolicy, id: Identity | null): string | undefined {
  if (p.action === 'allow') return id === null ? 'caller: no identity (allow needs a signed-in caller)' : undefined;
  if (p.action !== 'service_auth') return undefined;
  if (id === null) return 'caller: no identity';
  if (id.kind === 'service') return `caller: service token ${id.serviceToken ?? id.subject}`;
  if (p.issuers.has(id.issuer)) return `caller: issuer ${id.issuer} accepted`;
  return `caller: ${id.kind} from ${id.issuer} is not a service token${p.issuers.size > 0 ? ' or from an accepted issuer' : ''}`;
}

interface Described {
  matched: boolean;
  rules: RuleResult[];
  note: string | undefined;
}

/** Every rule of a policy with its reason; `matched` combines them exactly as policyMatches does. */
function describePolicy(p: CompiledPolicy, id: Identity | null, f: RequestFacts): Described {
  const rules: RuleResult[] = [];
  let included = false;
  let required = true;
  let excluded = false;
  for (const r of p.include) {
    const res = ruleResult(r, id, f);
    included ||= res.matched;
    rules.push(res);
  }
  for (const r of p.require) {
    const res = ruleResult(r, id, f);
    required &&= res.matched;
    rules.push(res);
  }
  for (const r of p.exclude) {
    const res = ruleResult(r, id, f);
    excluded ||= res.matched;
    rules.push(res);
  }
  const notes: string[] = [];
  const caller = callerNote(p, id);
  if (caller !== undefined) notes.push(caller);
  if (p.include.length === 0) notes.push('include is empty: matches nobody');
  return {
    matched: callerAccepted(p, id) && included && required && !excluded,
    rules,
    note: notes.length > 0 ? notes.join('; ') : undefined,
  };
}

function flatReasons(d: Described, prefix: string, into: string[]): string[] {
  if (d.note !== undefined) into.push(prefix + d.note);
  for (const r of d.rules) into.push(prefix + r.reason);
  return into;
}

function explained(p: CompiledPolicy, d: Described | null): PolicyExplanation {
  if (d === null) return { policy: p.name, action: p.action, matched: false, evaluated: false, rules: [] };
  const e: PolicyExplanation = { policy: p.name, action: p.action, matched: d.matched, evaluated: true, rules: d.rules };
  if (d.note !== undefined) e.note = d.note;
  return e;
}

function decided(p: CompiledPolicy, reasons: string[], explanation: PolicyExplanation[]): Decision {
  const { outcome, reason } = RESULT[p.action];
  return { outcome, policy: p.name, action: p.action, reason, reasons, explanation };
}

/** One shared, frozen reason-less decision per allowing policy (the `quiet` hot path). */
const quietDecisions = new WeakMap<CompiledPolicy, Decision>();

function quietDecision(p: CompiledPolicy): Decision {
  let d = quietDecisions.get(p);
  if (d === undefined) {
    d = Object.freeze(decided(p, Object.freeze([]) as unknown as string[], Object.freeze([]) as unknown as PolicyExplanation[]));
    quietDecisions.set(p, d);
  }
  return d;
}

function noneMatched(reasons: string[], explanation: PolicyExplanation[]): Decision {
  if (reasons.length === 0) reasons.push('no policies');
  return { outcome: 'deny', policy: null, action: null, reason: 'no_policy_matched', reasons, explanation };
}

/**
 * Decides a request. Policies are tried in evaluation order (service_auth and bypass, then deny,
 * then allow); the first that matches decides, and nothing matching is a deny.
 *
 * `reasons` always covers the deciding policy (or every policy, prefixed by its name, when none
 * matched) — except with `quiet`, where a request that is let through (allow, bypass,
 * service_auth) gets a shared, frozen decision without reasons: the hot path records those
 * aggregated and never reads them. Denials always carry their reasons. With `explain`,
 * `explanation` has one entry per policy in evaluation order, with every rule of each evaluated
 * policy; otherwise it is empty.
 */
export function evaluate(
  compiled: CompiledPolicies,
  identity: Identity | null,
  facts: RequestFacts,
  opts?: { explain?: boolean; quiet?: boolean },
): Decision {
  const ordered = compiled.ordered;
  if (opts?.explain !== true) {
    for (let i = 0; i < ordered.length; i++) {
      const p = ordered[i]!;
      if (policyMatches(p, identity, facts)) {
        if (opts?.quiet === true && p.action !== 'deny') return quietDecision(p);
        return decided(p, flatReasons(describePolicy(p, identity, facts), '', []), []);
      }
    }
    const reasons: string[] = [];
    for (const p of ordered) flatReasons(describePolicy(p, identity, facts), `${p.name}: `, reasons);
    return noneMatched(reasons, []);
  }

  const explanation: PolicyExplanation[] = [];
  let winner: { p: CompiledPolicy; d: Described } | null = null;
  const seen: Array<{ p: CompiledPolicy; d: Described }> = [];
  for (const p of ordered) {
    if (winner !== null) {
      explanation.push(explained(p, null));
      continue;
    }
    const d = describePolicy(p, identity, facts);
    explanation.push(explained(p, d));
    seen.push({ p, d });
    if (d.matched) winner = { p, d };
  }
  if (winner !== null) return decided(winner.p, flatReasons(winner.d, '', []), explanation);
  const reasons: string[] = [];
  for (const { p, d } of seen) flatReasons(d, `${p.name}: `, reasons);
  return noneMatched(reasons, explanation);
}

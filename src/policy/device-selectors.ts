// The device selectors: `device: enrolled | approved` (the session proved a WebAuthn device) and
// `posture: {fact, equals | in | at_least | at_most, value}` (what an MDM or agent reported about
// that device, or what the User-Agent header claims for ua_* facts). Fail closed: an unknown or
// stale fact never matches, and the reason says which and since when.
import { compareVersions, parseVersion } from './versions.js';
import type { Identity, PostureValue, RequestFacts } from './types.js';
import type { SelectorMatcher } from './selectors.js';

/** The reason detail when a rule needs a device the session has not proven (authorize looks for it). */
export const NO_DEVICE = 'no device bound to this session';

/** Facts read from the request's User-Agent header (client-claimed), not from a device report. */
export const USER_AGENT_FACTS = Object.freeze(['ua_os', 'ua_os_version', 'ua_browser', 'ua_browser_version']);

/** Default posture.max_age. */
export const DEFAULT_POSTURE_MAX_AGE_MS = 24 * 3_600_000;

export function compileDevice(value: unknown): SelectorMatcher {
  if (value !== 'enrolled' && value !== 'approved') throw new Error('must be enrolled or approved');
  const approved = value === 'approved';
  return {
    label: `device ${value}`,
    match: (id) => !!id?.device && (!approved || id.device.approvedAt !== null),
    describe(id, _facts, matched) {
      if (matched) return 'matched';
      if (id === null) return 'no identity';
      if (!id.device) return NO_DEVICE;
      return `device ${id.device.name} is pending approval`;
    },
  };
}

type Op = 'equals' | 'in' | 'at_least' | 'at_most';
const OPS: readonly Op[] = ['equals', 'in', 'at_least', 'at_most'];
const isScalar = (v: unknown): v is PostureValue => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** "3d ago", "5h ago", "12m ago", "40s ago". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d ago`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h ago`;
  if (s >= 60) return `${Math.floor(s / 60)}m ago`;
  return `${s}s ago`;
}

type Seen = { value: PostureValue } | { unknown: string };

function read(fact: string, id: Identity | null, facts: RequestFacts, now: number): Seen {
  if (fact.startsWith('ua_')) {
    const v = facts.agent?.[fact];
    return v === undefined ? { unknown: 'unknown (the user agent does not say)' } : { value: v };
  }
  if (id === null) return { unknown: 'no identity' };
  if (!id.device) return { unknown: NO_DEVICE };
  const f = id.device.posture[fact];
  if (!f) return { unknown: 'unknown (never reported)' };
  const maxAge = facts.postureMaxAgeMs ?? DEFAULT_POSTURE_MAX_AGE_MS;
  if (now - f.at > maxAge) return { unknown: `unknown (last report ${ago(now - f.at)})` };
  return { value: f.value };
}

/** Orders two values: versions numerically, numbers as numbers; null when they do not compare. */
function order(actual: PostureValue, bound: string | number): number | null {
  if (typeof actual === 'number' && typeof bound === 'number') return actual - bound;
  const a = parseVersion(String(actual));
  const b = parseVersion(String(bound));
  return a && b ? compareVersions(a, b) : null;
}

export function compilePosture(value: unknown): SelectorMatcher {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('must be an object like {fact: disk_encrypted, equals: true}');
  const rule = value as Record<string, unknown>;
  const { fact } = rule;
  if (typeof fact !== 'string' || !/^[a-z][a-z0-9_]*$/.test(fact)) throw new Error('fact must be a fact name like os_version');
  const ops = OPS.filter((o) => rule[o] !== undefined);
  if (ops.length !== 1) throw new Error('needs exactly one of equals, in, at_least, at_most');
  const op = ops[0] as Op;
  const expected = rule[op];
  let test: (v: PostureValue) => boolean;
  let shown: string;
  if (op === 'equals') {
    if (!isScalar(expected)) throw new Error('equals must be a string, number or boolean');
    test = (v) => v === expected;
    shown = `= ${String(expected)}`;
  } else if (op === 'in') {
    if (!Array.isArray(expected) || expected.length === 0 || !expected.every(isScalar)) throw new Error('in must be a non-empty list of strings, numbers or booleans');
    const set = new Set<unknown>(expected);
    test = (v) => set.has(v);
    shown = `in [${expected.map(String).join(', ')}]`;
  } else {
    if (typeof expected === 'boolean' || !isScalar(expected) || (typeof expected === 'string' && !parseVersion(expected))) {
      throw new Error(`${op} must be a number or a version like 14.2`);
    }
    const sign = op === 'at_least' ? 1 : -1;
    test = (v) => {
      const d = order(v, expected as string | number);
      return d !== null && d * sign >= 0;
    };
    shown = `${op === 'at_least' ? '≥' : '≤'} ${String(expected)}`;
  }
  return {
    label: `posture ${fact}`,
    match(id, facts) {
      const seen = read(fact, id, facts, Date.now());
      return 'value' in seen && test(seen.value);
    },
    describe(id, facts, matched) {
      const seen = read(fact, id, facts, Date.now());
      if ('unknown' in seen) return seen.unknown;
      const src = fact.startsWith('ua_') ? ' (user agent, client-claimed)' : '';
      return matched ? `${String(seen.value)} ${shown}${src}` : `is ${String(seen.value)}, needs ${shown}${src}`;
    },
  };
}

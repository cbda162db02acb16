// One small matcher per rule selector. Each is compiled once from its configured value (sets built,
// values lowercased, CIDRs parsed) so that a request only does lookups.
//
// match() decides; describe() only formats what it saw, given match()'s answer, so the decision
// logic lives in one place and reasons are built only when someone will read them.
import { compileDevice, compilePosture } from './device-selectors.js';
import { IpMatcher, isIpAddress } from './ip.js';
import type { Identity, RequestFacts, RuleConfig } from './types.js';

export type SelectorName = keyof RuleConfig;

export interface SelectorMatcher {
  /** The selector and its configured values as written, e.g. `email alice@corp.example`. */
  readonly label: string;
  match(identity: Identity | null, facts: RequestFacts): boolean;
  /** Readable detail for a reason: `matched`, `domain is evil.test`, `10.1.2.3 in range`, … */
  describe(identity: Identity | null, facts: RequestFacts, matched: boolean): string;
}

/** Compiles a selector's configured value; throws an Error (without location) when it is unusable. */
type Compile = (value: unknown) => SelectorMatcher;

/** Selectors that look at the caller's identity; they can never match without one (e.g. in bypass). */
export const IDENTITY_SELECTORS = Object.freeze([
  'email',
  'email_domain',
  'group',
  'idp',
  'auth_method',
  'claim',
  'service_token',
  'device',
] as const satisfies readonly SelectorName[]);

// ---- formatting (only on the reason path) ----

const MAX_SHOWN = 10;
const MAX_VALUE_CHARS = 100;

/** `[a, b]`, capped so a caller with 500 groups does not produce a 20 KB reason. */
export function showList(items: readonly unknown[] | undefined): string {
  if (!items || items.length === 0) return '[]';
  const shown = items.slice(0, MAX_SHOWN).map(String).join(', ');
  return items.length > MAX_SHOWN ? `[${shown}, … +${items.length - MAX_SHOWN} more]` : `[${shown}]`;
}

/** One value bare, several as a list: `email alice@x` / `email [alice@x, bob@x]`. */
function showValues(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : showList(values);
}

/** JSON preview of a claim value, capped. */
function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}…` : s;
}

// ---- config value helpers ----
/** A non-empty string or non-empty list of non-empty strings. An empty list is refused: in
 *  `exclude` it would silently exclude nobody. */
function stringList(value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new Error('must not be an empty list');
  for (const v of list) {
    if (typeof v !== 'string' || v === '') throw new Error('must be a non-empty string or a list of them');
  }
  return list as string[];
}

function requireTrue(value: unknown): void {
  if (value !== true) throw new Error('must be true');
}

const lower = (s: string): string => s.toLowerCase();

/** The common "identity selector" shape: a set lookup on one identity field. */
function identityField(
  name: SelectorName,
  value: unknown,
  normalize: (s: string) => string,
  read: (id: Identity) => string | undefined,
  describeMiss: (id: Identity, seen: string | undefined) => string,
): SelectorMatcher {
  const raw = stringList(value);
  const set = new Set(raw.map(normalize));
  return {
    label: `${name} ${showValues(raw)}`,
    match(id) {
      if (id === null) return false;
      const v = read(id);
      return v !== undefined && v !== '' && set.has(normalize(v));
    },
    describe(id, _facts, matched) {
      if (matched) return 'matched';
      if (id === null) return 'no identity';
      return describeMiss(id, read(id));
    },
  };
}

/** The "any of the identity's list is configured" shape (groups, amr). */
function identityList(
  name: SelectorName,
  value: unknown,
  read: (id: Identity) => readonly string[] | undefined,
): SelectorMatcher {
  const raw = stringList(value);
  const set = new Set(raw);
  return {
    label: `${name} ${showValues(raw)}`,
    match(id) {
      const have = id === null ? undefined : read(id);
      if (!have) return false;
      for (const v of have) if (set.has(v)) return true;
      return false;
    },
    describe(id, _facts, matched) {
      if (matched) return 'matched';
      if (id === null) return 'no identity';
      return `not in ${showList(read(id))}`;
    },
  };
}

/** The domain after the last '@' ("a@b"@evil.test has domain evil.test), or undefined. */
function emailDomain(email: string | undefined): string | undefined {
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  return at < 0 || at === email.length - 1 ? undefined : email.slice(at + 1);
}

// ---- claim ----

type Scalar = string | number | boolean;

function claimValues(value: unknown): Scalar[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new Error('claim value must not be an empty list');
  for (const v of list) {
    const t = typeof v;
    if (t !== 'string' && t !== 'boolean' && !(t === 'number' && Number.isFinite(v))) {
      throw new Error('claim value must be a string, number or boolean, or a list of them');
    }
  }
  return list as Scalar[];
}

/**
 * Resolves a dotted claim name. At each level the whole remaining name is tried as a key first,
 * because namespaced claims (`https://corp.example/roles`) contain dots. Own properties only, so
 * `constructor` or `__proto__` never reach Object.prototype.
 */
function claimReader(name: string): (claims: Record<string, unknown>) => unknown {
  const segments = name.split('.');
  const suffixes = segments.map((_, i) => segments.slice(i).join('.'));
  const last = segments.length - 1;
  const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  return (claims) => {
    let obj: unknown = claims;
    for (let i = 0; i < last; i++) {
      if (!isRecord(obj)) return undefined;
      if (Object.hasOwn(obj, suffixes[i]!)) return obj[suffixes[i]!];
      if (!Object.hasOwn(obj, segments[i]!)) return undefined;
      obj = obj[segments[i]!];
    }
    return isRecord(obj) && Object.hasOwn(obj, segments[last]!) ? obj[segments[last]!] : undefined;
  };
}

function compileClaim(value: unknown): SelectorMatcher {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('must be an object with name and value');
  }
  const { name, value: expected } = value as { name?: unknown; value?: unknown };
  if (typeof name !== 'string' || name === '' || name.split('.').includes('')) {
    throw new Error('claim name must be a non-empty dotted name');
  }
  const values = claimValues(expected);
  // A Set compares with SameValueZero: 1 matches 1, but never "1"; true never "true". Types are
  // kept strict so a string claim cannot satisfy a boolean rule by accident.
  const set = new Set<unknown>(values);
  const read = claimReader(name);
  const has = (v: unknown): boolean => {
    if (Array.isArray(v)) {
      for (const item of v) if (set.has(item)) return true;
      return false;
    }
    return set.has(v);
  };
  const shown = values.length === 1 ? preview(values[0]) : showList(values.map((v) => preview(v)));
  return {
    label: `claim ${name}=${shown}`,
    match(id) {
      return id !== null && id.claims != null && has(read(id.claims));
    },
    describe(id, _facts, matched) {
      if (matched) return 'matched';
      if (id === null) return 'no identity';
      const v = id.claims == null ? undefined : read(id.claims);
      return v === undefined ? 'claim missing' : `value is ${preview(v)}`;
    },
  };
}

// ---- the table ----

export const SELECTORS = {
  everyone(value) {
    requireTrue(value);
    return { label: 'everyone', match: () => true, describe: () => 'matched' };
  },

  email: (value) =>
    identityField('email', value, lower, (id) => id.email, (_id, email) =>
      email ? `email is ${email}` : 'identity has no email',
    ),

  email_domain(value) {
    const raw = stringList(value);
    for (const d of raw) {
      // "@corp.example" or "alice@corp.example" here is a mistake that would otherwise never match,
      // which in `exclude` means silently excluding nobody.
      if (d.includes('@')) throw new Error(`email_domain ${JSON.stringify(d)} must be a bare domain like corp.example`);
    }
    return identityField('email_domain', raw, lower, (id) => emailDomain(id.email), (id, domain) =>
      domain ? `domain is ${domain}` : id.email ? 'email has no domain' : 'identity has no email',
    );
  },

  group: (value) => identityList('group', value, (id) => id.groups),

  idp: (value) =>
    identityField('idp', value, (s) => s, (id) => id.idp, (_id, idp) => (idp ? `idp is ${idp}` : 'identity has no idp')),

  auth_method: (value) => identityList('auth_method', value, (id) => id.amr),

  ip(value) {
    const raw = stringList(value);
    const matcher = IpMatcher.parse(raw);
    return {
      label: `ip ${showValues(raw)}`,
      match: (_id, facts) => matcher.contains(facts.clientIp),
      describe(_id, facts, matched) {
        const ip = facts.clientIp;
        if (matched) return `${ip} in range`;
        return isIpAddress(ip) ? `${ip} not in range` : `${JSON.stringify(ip)} is not an IP address`;
      },
    };
  },

  country(value) {
    const raw = stringList(value);
    const set = new Set(raw.map((s) => s.toUpperCase()));
    return {
      label: `country ${showValues(raw)}`,
      match: (_id, facts) => !!facts.country && set.has(facts.country.toUpperCase()),
      describe: (_id, facts, matched) => (matched ? 'matched' : facts.country ? `country is ${facts.country}` : 'country unknown'),
    };
  },

  claim: compileClaim,

  service_token(value) {
    const raw = stringList(value);
    const set = new Set(raw);
    return {
      label: `service_token ${showValues(raw)}`,
      match: (id) => id !== null && id.kind === 'service' && id.serviceToken !== undefined && set.has(id.serviceToken),
      describe(id, _facts, matched) {
        if (matched) return 'matched';
        if (id === null) return 'no identity';
        if (id.kind !== 'service') return `not a service token (${id.kind})`;
        return `token is ${id.serviceToken ?? '(unnamed)'}`;
      },
    };
  },

  valid_certificate(value) {
    requireTrue(value);
    return {
      label: 'valid_certificate',
      match: (_id, facts) => facts.certificate?.verified === true,
      describe: (_id, facts, matched) =>
        matched ? 'matched' : facts.certificate ? 'certificate not verified' : 'no client certificate',
    };
  },
  device: compileDevice,
  posture: compilePosture,
} as const satisfies Record<SelectorName, Compile>;

export const SELECTOR_NAMES = Object.freeze(Object.keys(SELECTORS) as SelectorName[]);

export function isSelectorName(key: string): key is SelectorName {
  return Object.hasOwn(SELECTORS, key);
}

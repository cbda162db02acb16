// Schema validation of one parsed file: ajv compiled from the TypeBox schemas (the same source as the
// published JSON Schemas), with ajv's errors turned into messages an operator can act on, each
// positioned at the offending key or value. anyOf unions report once, not once per branch.
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TSchema } from '@sinclair/typebox';
import { AppFile, Duration, GatewayFile, ListenAddress } from './schema.js';
import { displayPath, pointerSegments, type FileReport } from './positions.js';

// ajv is loaded only when a validator has to be compiled here (see write-validators.ts).
const require = createRequire(import.meta.url);

/** The ajv every validator comes from, at build time (`source`: for standalone code) or at run time. */
export function newAjv(code: { source?: boolean } = {}): Ajv {
  const { Ajv } = require('ajv') as typeof import('ajv');
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, code });
  (require('ajv-formats') as { default: (ajv: Ajv, formats: string[]) => Ajv }).default(ajv, ['date-time']);
  return ajv;
}

/** The build's ready-made validators (next to this file in dist/). */
export const PRECOMPILED_FILE = './validators.generated.cjs';

/** Identifies the schemas a precompiled file was made from. */
export function schemasHash(): string {
  return createHash('sha256').update(JSON.stringify([GatewayFile, AppFile])).digest('hex').slice(0, 32);
}

function loadPrecompiled(): Map<TSchema, ValidateFunction> {
  try {
    const m = require(PRECOMPILED_FILE) as { gateway: ValidateFunction; app: ValidateFunction; hash: string };
    if (m.hash === schemasHash()) return new Map<TSchema, ValidateFunction>([[GatewayFile, m.gateway], [AppFile, m.app]]);
  } catch {
    // not built (tests on src/), or from another version: compiled at run time instead
  }
  return new Map();
}

const validators = loadPrecompiled();
let runtimeAjv: Ajv | undefined;
function validatorFor(schema: TSchema): ValidateFunction {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = (runtimeAjv ??= newAjv()).compile(schema)));
  return v;
}

/** Whether this process validates with the build's precompiled validators (for tests). */
export const precompiledValidators = validators.size > 0;

export const gatewaySchema: TSchema = GatewayFile;
export const appSchema: TSchema = AppFile;

/** The schema verdict for one file; `ok(path)` tells whether a subtree may be read as its static type. */
export interface SchemaResult {
  valid: boolean;
  /** The whole subtree at `path` passed the schema. */
  ok(path: ReadonlyArray<string | number>): boolean;
  /** The node at `path` has its schema type (a list is a list), though parts inside it may not. */
  shape(path: ReadonlyArray<string | number>): boolean;
}

interface Schemaish {
  type?: string;
  const?: unknown;
  anyOf?: Schemaish[];
  items?: Schemaish;
  pattern?: string;
  properties?: Record<string, unknown>;
  minItems?: number;
}

const PATTERN_TEXT: Record<string, string> = {
  [Duration.pattern as string]: 'must be a duration like 30s, 5m, 8h',
  [ListenAddress.pattern as string]: 'must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080',
  '^[a-z0-9][a-z0-9_-]*$': 'must be lowercase letters, digits, "-" and "_", starting with a letter or digit',
  "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$": 'must be a valid cookie name (letters, digits and !#$%&\'*+.^_`|~-)',
  '^/': 'must start with "/"',
};

export function validateSchema(data: unknown, schema: TSchema, report: FileReport): SchemaResult {
  const validate = validatorFor(schema);
  if (validate(data)) return { valid: true, ok: () => true, shape: () => true };
  const errors = validate.errors ?? [];
  const seen = new Set<string>();
  const marks: Array<Array<string | number>> = [];
  for (const issue of friendly(errors)) {
    const segs = pointerSegments(issue.path);
    const key = `${issue.path}\0${issue.message}`;
    if (!seen.has(key) && !issue.silent) {
      seen.add(key);
      report.at(issue.anchorPath ?? segs, issue.message, issue.anchor);
    }
    if (issue.mark) marks.push(issue.mark);
  }
  return {
    valid: false,
    ok: (path) => !marks.some((m) => isPrefix(m, path) || isPrefix(path, m)),
    shape: (path) => !marks.some((m) => isPrefix(m, path)),
  };
}

function isPrefix(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): boolean {
  return a.length <= b.length && a.every((s, i) => s === b[i]);
}

interface Issue {
  path: string;
  message: string;
  anchor: 'value' | 'key';
  anchorPath?: Array<string | number>;
  /** Subtree whose static type cannot be trusted (null: none, e.g. an extra key). */
  mark: Array<string | number> | null;
  parent?: string;
  typoOf?: string;
  missing?: string;
  /** Still marks its subtree, but is not reported (another message already covers it). */
  silent?: boolean;
}

function friendly(errors: ErrorObject[]): Issue[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const outer = anyOfs.filter((a) => !anyOfs.some((b) => b !== a && a.schemaPath.startsWith(`${b.schemaPath}/`)));
  const consumed = new Set<ErrorObject>();
  const out: Issue[] = [];
  for (const a of outer) {
    const inside = errors.filter((e) => e.schemaPath.startsWith(`${a.schemaPath}/`));
    consumed.add(a);
    inside.forEach((e) => consumed.add(e));
    const branches = new Map<string, ErrorObject[]>();
    for (const e of inside) {
      const branch = e.schemaPath.slice(a.schemaPath.length + 1).split('/')[0]!;
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    // A branch whose shape fits (its errors lie deeper, or are not about the type) is what was meant.
    const fitting = [...branches.values()]
      .filter((errs) => !errs.some((e) => e.instancePath === a.instancePath && ['type', 'const', 'enum'].includes(e.keyword)))
      .sort((x, y) => x.length - y.length);
    if (fitting[0]) out.push(...friendly(fitting[0]));
    else out.push(valueIssue(a.instancePath, unionText(a.schema as Schemaish[], a.data)));
  }
  for (const e of errors) if (!consumed.has(e)) out.push(single(e));
  // `polices:` already says (did you mean "policies"?): don't also report "policies" as missing.
  const typos = new Set(out.filter((i) => i.typoOf).map((i) => `${i.parent}/${i.typoOf}`));
  for (const i of out) if (i.missing && typos.has(`${i.path}/${i.missing}`)) i.silent = true;
  return out;
}

function valueIssue(path: string, text: string): Issue {
  const segs = pointerSegments(path);
  return { path, message: prefixed(segs, text), anchor: 'value', mark: segs };
}

function prefixed(segs: ReadonlyArray<string | number>, text: string): string {
  return segs.length ? `${displayPath(segs)}: ${text}` : text;
}

function single(e: ErrorObject): Issue {
  const segs = pointerSegments(e.instancePath);
  const schema = e.parentSchema as Schemaish | undefined;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const allowed = Object.keys(schema?.properties ?? {});
      const hint = suggest(name, allowed);
      return {
        path: `${e.instancePath}/${name}`,
        anchorPath: [...segs, name],
        anchor: 'key',
        message: `unknown key "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        mark: null,
        parent: e.instancePath,
        ...(hint ? { typoOf: hint } : {}),
      };
    }
    case 'required': {
      const name = String(p.missingProperty);
      return { path: e.instancePath, anchor: 'value', message: prefixed(segs, `missing required key "${name}"`), mark: [...segs, name], missing: name };
    }
    case 'type':
      return valueIssue(e.instancePath, `expected ${describe(schema ?? {})}, got ${SECRET_KEY.test(String(segs.at(-1))) ? 'something else' : kindOf(e.data)}`);
    case 'const':
      return valueIssue(e.instancePath, `must be ${JSON.stringify(p.allowedValue)}`);
    case 'pattern':
      return valueIssue(e.instancePath, PATTERN_TEXT[String(p.pattern)] ?? `must match ${String(p.pattern)}`);
    case 'minLength':
      return valueIssue(e.instancePath, p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`);
    case 'minItems':
      return valueIssue(e.instancePath, p.limit === 1 ? 'must not be an empty list' : `must have at least ${String(p.limit)} items`);
    case 'minimum':
      return valueIssue(e.instancePath, `must be at least ${String(p.limit)}`);
    case 'maximum':
      return valueIssue(e.instancePath, `must be at most ${String(p.limit)}`);
    case 'format':
      return valueIssue(e.instancePath, p.format === 'date-time' ? 'must be a date-time like 2030-01-31T00:00:00Z' : `must be a ${String(p.format)}`);
    default:
      return valueIssue(e.instancePath, e.message ?? 'is invalid');
  }
}

function unionText(branches: Schemaish[], data: unknown): string {
  if (branches.every((b) => b.const !== undefined)) {
    return `must be one of ${branches.map((b) => String(b.const)).join(', ')} (got ${kindOf(data)})`;
  }
  return `expected ${describe({ anyOf: branches })}, got ${kindOf(data)}`;
}

/** What a schema expects, in words: "a string or a list of strings". */
export function describe(s: Schemaish, plural = false): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) {
    const parts = s.anyOf.map((b) => describe(b, plural));
    return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}` : (parts[0] ?? 'a value');
  }
  if (s.pattern === Duration.pattern) return plural ? 'durations' : 'a duration like 30s';
  if (s.pattern === ListenAddress.pattern) return plural ? 'host:port addresses' : 'host:port like 127.0.0.1:8080';
  switch (s.type) {
    case 'string':
      return plural ? 'strings' : 'a string';
    case 'integer':
      return plural ? 'whole numbers' : 'a whole number';
    case 'number':
      return plural ? 'numbers' : 'a number';
    case 'boolean':
      return plural ? 'booleans' : 'true or false';
    case 'object':
      return plural ? 'maps' : 'a map';
    case 'array':
      return plural ? 'lists' : s.items ? `a list of ${describe(s.items, true)}` : 'a list';
    default:
      return plural ? 'values' : 'a value';
  }
}

/** Values never echoed in messages. */
const SECRET_KEY = /secret|password|token/i;

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

/** The allowed key nearest to `name` (Levenshtein), when it is near enough to be a typo. */
export function suggest(name: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = levenshtein(name.toLowerCase(), a);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? best : undefined;
}

export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

// PATCH (RFC 7644 §3.5.2) applied to a resource document, then checked again as a whole resource
// by resources.ts, so a PATCH can never store what a PUT would refuse.
//
// Checklist (§3.5.2):
//  - body: schemas has the PatchOp URN; Operations is a non-empty list               tested
//  - op is add, remove or replace (any case: Entra sends "Replace", "Add", "Remove")  tested
//  - add/replace without a path: value is an object of attributes; Entra's keys may
//    be paths ("name.givenName", "urn:…:enterprise:2.0:User:department")            tested
//  - remove without a path: 400 noTarget                                             tested
//  - replace on a complex attribute merges the given sub-attributes                  tested
//  - a valuePath filter selects elements (members[value eq "…"],
//    emails[type eq "work"].value); replace with no match adds the element (Entra)   tested
//  - readOnly attributes (id, meta, groups) cannot be changed: 400 mutability         tested
// Group members are not edited here: group.ts turns member operations into store changes.
import type { ScimFilter } from '../../store/scim-types.js';
import { invalidValue, ScimError } from './errors.js';
import { parsePath, ScimSyntaxError, type PatchPath } from './filter.js';
import { canonicalName, isObject, MULTI_VALUED, PATCH_URN, USER_URN, GROUP_URN, type Doc } from './resources.js';

export type OpName = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  op: OpName;
  /** Parsed path; absent for a path-less add/replace. */
  path?: PatchPath;
  rawPath?: string;
  value?: unknown;
  /** For error messages: Operations[i]. */
  at: string;
}

const MAX_OPERATIONS = 1000;

/** The body of a PATCH request → its operations. Entra's keys and ops in any case are accepted. */
export function patchOperations(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw ScimError.of('invalidSyntax', 'the body must be a JSON object');
  const get = (o: Doc, name: string) => Object.entries(o).find(([k]) => k.toLowerCase() === name)?.[1];
  const schemas = get(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_URN)) throw invalidValue('schemas', `must be ["${PATCH_URN}"]`);
  const ops = get(body, 'operations');
  if (!Array.isArray(ops) || ops.length === 0) throw ScimError.of('invalidSyntax', 'Operations: must be a non-empty list');
  if (ops.length > MAX_OPERATIONS) throw ScimError.of('tooMany', `Operations: at most ${MAX_OPERATIONS}`);
  return ops.map((raw, i): PatchOperation => {
    const at = `Operations[${i}]`;
    if (!isObject(raw)) throw ScimError.of('invalidSyntax', `${at}: must be an object with op, path, value`);
    const op = get(raw, 'op');
    const name = typeof op === 'string' ? op.toLowerCase() : '';
    if (name !== 'add' && name !== 'remove' && name !== 'replace') throw ScimError.of('invalidSyntax', `${at}.op: must be add, remove or replace`);
    const rawPath = get(raw, 'path');
    const value = get(raw, 'value');
    if (rawPath !== undefined && rawPath !== null && (typeof rawPath !== 'string' || rawPath === '')) throw ScimError.of('invalidPath', `${at}.path: must be a string`);
    if ((rawPath === undefined || rawPath === null) && name === 'remove') throw ScimError.of('noTarget', `${at}: remove needs a path`);
    if (name !== 'remove' && value === undefined) throw invalidValue(`${at}.value`, `is required for ${name}`);
    let path: PatchPath | undefined;
    if (typeof rawPath === 'string') {
      try {
        path = parsePath(rawPath);
      } catch (err) {
        if (err instanceof ScimSyntaxError) throw ScimError.of('invalidPath', `${at}.path: ${err.message}`);
        throw err;
      }
    }
    return { op: name, at, value, ...(path ? { path, rawPath: rawPath as string } : {}) };
  });
}

/**
 * A path-less add/replace → one operation per attribute of its value. Entra sends keys that are
 * paths themselves ("name.givenName", "urn:…:enterprise:2.0:User:employeeNumber").
 */
export function expandPathless(op: PatchOperation): PatchOperation[] {
  if (op.path) return [op];
  if (!isObject(op.value)) throw invalidValue(`${op.at}.value`, 'must be an object of attributes when there is no path');
  // Okta's rename sends the group's own id along ({id, displayName}): read-only, so ignored (§3.5.2).
  const entries = Object.entries(op.value).filter(([key]) => !/^(id|meta|schemas)$/i.test(key));
  return entries.map(([key, value]) => {
    // "urn:…:enterprise:2.0:User" (an extension's whole object) has a dot too, but is no path.
    const isPath = !isSchemaUrn(key) && (key.includes('.') || /^urn:/i.test(key));
    let path: PatchPath;
    try {
      path = isPath ? parsePath(key) : { attr: { name: key } };
    } catch (err) {
      if (err instanceof ScimSyntaxError) throw ScimError.of('invalidPath', `${op.at}.value: "${key}": ${err.message}`);
      throw err;
    }
    return { ...op, path, rawPath: key, value };
  });
}

/** A schema URN used as an attribute name (an extension's whole object), not a path into one. */
const isSchemaUrn = (key: string) => /^urn:ietf:params:scim:schemas:extension:[^:]+:[0-9.]+:(User|Group)$/i.test(key);

/** Applies one operation (already expanded, so it has a path) to `doc`, in place. */
export function applyOperation(doc: Doc, op: PatchOperation, kind: 'User' | 'Group'): void {
  const path = op.path as PatchPath;
  const core = kind === 'User' ? USER_URN : GROUP_URN;
  let container = doc;
  let name = canonicalName(path.attr.name, kind);
  if (path.attr.uri && path.attr.uri.toLowerCase() !== core.toLowerCase()) {
    // An extension attribute: urn:…:enterprise:2.0:User:department lives in doc[urn].department.
    const urn = canonicalName(path.attr.uri, kind);
    const ext = doc[urn];
    if (!isObject(ext)) {
      if (op.op === 'remove') return;
      doc[urn] = {};
    }
    container = doc[urn] as Doc;
    name = path.attr.name;
  }
  if (['id', 'meta', 'groups', 'schemas'].includes(name)) throw ScimError.of('mutability', `${op.at}.path: "${name}" is read-only`);
  if (path.filter) return applyFiltered(container, name, path, op);
  const sub = path.attr.sub;
  if (sub) {
    const parent = container[name];
    if (Array.isArray(parent)) throw ScimError.of('invalidPath', `${op.at}.path: "${op.rawPath}": select elements of ${name} with a filter, e.g. ${name}[type eq "work"].${sub}`);
    if (op.op === 'remove') {
      if (isObject(parent)) delete parent[sub];
      return;
    }
    container[name] = { ...(isObject(parent) ? parent : {}), [sub]: op.value };
    return;
  }
  const current = container[name];
  if (op.op === 'remove') {
    // Entra without aadOptscim062020: {op: Remove, path: members, value: [{value: id}]} removes those values.
    if (Array.isArray(current) && op.value !== undefined) {
      const gone = new Set((Array.isArray(op.value) ? op.value : [op.value]).map(keyOf));
      container[name] = current.filter((e) => !gone.has(keyOf(e)));
    } else delete container[name];
    return;
  }
  if (MULTI_VALUED.has(name)) {
    const values = Array.isArray(op.value) ? op.value : [op.value];
    const base = op.op === 'add' && Array.isArray(current) ? current : [];
    const seen = new Set(base.map(keyOf));
    container[name] = [...base, ...values.filter((v) => !seen.has(keyOf(v)))];
    return;
  }
  // A complex attribute: the given sub-attributes replace theirs, the others stay (§3.5.2.3).
  container[name] = isObject(current) && isObject(op.value) ? { ...current, ...op.value } : op.value;
}

function applyFiltered(container: Doc, name: string, path: PatchPath, op: PatchOperation): void {
  const filter = path.filter as ScimFilter;
  const list = container[name];
  const elements = Array.isArray(list) ? list : [];
  const hits = elements.filter((e) => isObject(e) && matches(e, filter));
  if (op.op === 'remove') {
    if (path.sub) for (const e of hits) delete (e as Doc)[path.sub];
    else container[name] = elements.filter((e) => !hits.includes(e));
    return;
  }
  if (hits.length === 0) {
    // Entra: replace emails[type eq "work"].value on a user without a work email adds one.
    const seed = equalities(filter);
    if (!seed) throw ScimError.of('noTarget', `${op.at}.path: no element of ${name} matches "${op.rawPath}"`);
    const added = path.sub ? { ...seed, [path.sub]: op.value } : isObject(op.value) ? { ...seed, ...op.value } : null;
    if (!added) throw invalidValue(`${op.at}.value`, `must be an object (an element of ${name})`);
    container[name] = [...elements, added];
    return;
  }
  for (const e of hits) {
    const el = e as Doc;
    if (path.sub) el[path.sub] = op.value;
    else if (isObject(op.value)) Object.assign(el, op.value);
    else throw invalidValue(`${op.at}.value`, `must be an object (an element of ${name})`);
  }
}

/** `type eq "work" and primary eq true` → {type: "work", primary: true}; null for anything else. */
function equalities(f: ScimFilter): Doc | null {
  if (f.op === 'eq' && !f.attr.sub && !f.attr.uri && f.value !== null) return { [f.attr.name]: f.value };
  if (f.op !== 'and') return null;
  const l = equalities(f.left);
  const r = equalities(f.right);
  return l && r ? { ...l, ...r } : null;
}

/** A multi-valued element's identity for de-duplication and value-list removal: its `value`. */
function keyOf(v: unknown): string {
  if (isObject(v)) {
    const value = Object.entries(v).find(([k]) => k.toLowerCase() === 'value')?.[1];
    if (value !== undefined) return `v:${String(value).toLowerCase()}`;
  }
  return `j:${JSON.stringify(v)}`;
}

/** Evaluates a valuePath filter on one element of a multi-valued attribute (sub-attributes only). */
export function matches(el: Doc, f: ScimFilter): boolean {
  switch (f.op) {
    case 'and':
      return matches(el, f.left) && matches(el, f.right);
    case 'or':
      return matches(el, f.left) || matches(el, f.right);
    case 'not':
      return !matches(el, f.filter);
    case 'has':
      return false;
    default: {
      const key = Object.keys(el).find((k) => k.toLowerCase() === f.attr.name.toLowerCase());
      const v = key === undefined ? undefined : el[key];
      if (f.op === 'pr') return v !== undefined && v !== null && v !== '';
      return compare(v, f.op, f.value);
    }
  }
}

function compare(actual: unknown, op: string, expected: string | number | boolean | null): boolean {
  if (expected === null) return op === 'eq' ? actual === undefined || actual === null : op === 'ne' ? actual !== undefined && actual !== null : false;
  if (typeof expected === 'boolean') {
    const b = typeof actual === 'string' ? actual.toLowerCase() === 'true' : actual === true;
    return op === 'eq' ? b === expected : op === 'ne' ? b !== expected : false;
  }
  const a = typeof actual === 'string' ? actual.toLowerCase() : actual;
  const e = typeof expected === 'string' ? expected.toLowerCase() : expected;
  if (typeof a === 'string' && typeof e === 'string') {
    if (op === 'co') return a.includes(e);
    if (op === 'sw') return a.startsWith(e);
    if (op === 'ew') return a.endsWith(e);
  }
  if (a === undefined || a === null) return op === 'ne';
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'gt':
      return (a as number) > (e as number);
    case 'ge':
      return (a as number) >= (e as number);
    case 'lt':
      return (a as number) < (e as number);
    case 'le':
      return (a as number) <= (e as number);
    default:
      return false;
  }
}

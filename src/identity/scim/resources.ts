// User and Group resources (RFC 7643 §4): a client's JSON checked and normalised into what the
// store keeps, and a stored record rendered back. Attribute names are case-insensitive (§2.1);
// readOnly attributes a client sends (id, meta, groups) are ignored (§2.2) and a password is never
// kept. Microsoft Entra's string booleans ("True", "False") are read as booleans.
import type { ScimEmail, ScimGroupRecord, ScimMember, ScimUserRecord } from '../../store/scim-types.js';
import { invalidValue, ScimError } from './errors.js';

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const USER_ATTRS = [
  'schemas', 'id', 'externalId', 'meta', 'userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType',
  'preferredLanguage', 'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses',
  'groups', 'entitlements', 'roles', 'x509Certificates',
];
const GROUP_ATTRS = ['schemas', 'id', 'externalId', 'meta', 'displayName', 'members'];
/** Never stored (readOnly, or writeOnly like password). */
const NOT_KEPT = new Set(['id', 'meta', 'groups', 'password']);
export const MULTI_VALUED = new Set(['emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509Certificates', 'members']);

const MAX_STRING = 1024;
const MAX_EMAILS = 20;
export const MAX_MEMBERS_PER_WRITE = 10_000;

export type Doc = Record<string, unknown>;

export const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The canonical spelling of an attribute name for this resource type (URN-named extensions as sent). */
export function canonicalName(name: string, kind: 'User' | 'Group'): string {
  const lower = name.toLowerCase();
  if (lower === ENTERPRISE_URN.toLowerCase()) return ENTERPRISE_URN;
  return (kind === 'User' ? USER_ATTRS : GROUP_ATTRS).find((a) => a.toLowerCase() === lower) ?? name;
}

function canonicalDoc(body: unknown, kind: 'User' | 'Group'): Doc {
  if (!isObject(body)) throw ScimError.of('invalidSyntax', 'the body must be a JSON object');
  const doc: Doc = {};
  for (const [k, v] of Object.entries(body)) doc[canonicalName(k, kind)] = v;
  const schemas = doc.schemas;
  const urn = kind === 'User' ? USER_URN : GROUP_URN;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn.toLowerCase())) {
    throw invalidValue('schemas', `must be a list that includes "${urn}"`);
  }
  return doc;
}

/** "True"/"False" (any case) as Entra sends them, or a JSON boolean. */
export function toBoolean(v: unknown, attr: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw invalidValue(attr, 'must be true or false');
}

function optionalString(v: unknown, attr: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > MAX_STRING) throw invalidValue(attr, `must be a string of at most ${MAX_STRING} characters`);
  return v;
}

function requiredString(v: unknown, attr: string): string {
  const s = optionalString(v, attr);
  if (s === null || s.trim() === '') throw invalidValue(attr, 'is required (a non-empty string)');
  return s;
}

function emailsOf(v: unknown): ScimEmail[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidValue('emails', 'must be a list');
  if (v.length > MAX_EMAILS) throw invalidValue('emails', `at most ${MAX_EMAILS} values`);
  const emails = v.map((e, i): ScimEmail => {
    if (!isObject(e)) throw invalidValue(`emails[${i}]`, 'must be an object with a value');
    const el: Doc = {};
    for (const [k, x] of Object.entries(e)) el[k.toLowerCase()] = x;
    const type = optionalString(el.type, `emails[${i}].type`);
    const primary = el.primary === undefined || el.primary === null ? false : toBoolean(el.primary, `emails[${i}].primary`);
    return { value: requiredString(el.value, `emails[${i}].value`), ...(type ? { type } : {}), ...(primary ? { primary } : {}) };
  });
  if (emails.filter((e) => e.primary).length > 1) throw invalidValue('emails', 'at most one may be primary');
  return emails;
}

export type UserFields = Omit<ScimUserRecord, 'id' | 'version' | 'createdAt' | 'updatedAt'>;

/** A POST/PUT body (or a patched document) → what the store keeps. */
export function userFields(body: unknown): UserFields {
  const doc = canonicalDoc(body, 'User');
  const emails = emailsOf(doc.emails);
  if (doc.name !== undefined && doc.name !== null && !isObject(doc.name)) throw invalidValue('name', 'must be an object (givenName, familyName …)');
  const attributes: Doc = {};
  for (const [k, v] of Object.entries(doc)) {
    if (NOT_KEPT.has(k) || ['schemas', 'userName', 'externalId', 'displayName', 'active', 'emails'].includes(k) || v === null) continue;
    attributes[k] = v;
  }
  const primary = emails.find((e) => e.primary) ?? emails[0];
  return {
    userName: requiredString(doc.userName, 'userName'),
    externalId: optionalString(doc.externalId, 'externalId'),
    displayName: optionalString(doc.displayName, 'displayName'),
    active: doc.active === undefined || doc.active === null ? true : toBoolean(doc.active, 'active'),
    emails,
    primaryEmail: primary ? primary.value.toLowerCase() : null,
    attributes,
  };
}

export interface GroupFields {
  displayName: string;
  externalId: string | null;
  attributes: Doc;
}

/** Member ids from a `members` value: `[{value: "<user id>"}, …]`. */
export function memberIds(v: unknown, attr = 'members'): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  if (list.length > MAX_MEMBERS_PER_WRITE) throw ScimError.of('tooMany', `${attr}: at most ${MAX_MEMBERS_PER_WRITE} members per request`);
  return [
    ...new Set(
      list.map((m, i) => {
        const value = isObject(m) ? Object.entries(m).find(([k]) => k.toLowerCase() === 'value')?.[1] : undefined;
        if (typeof value !== 'string' || value === '') throw invalidValue(`${attr}[${i}].value`, 'must be the id of a SCIM user');
        return value;
      }),
    ),
  ];
}

export function groupFields(body: unknown): GroupFields & { members: string[] } {
  const doc = canonicalDoc(body, 'Group');
  const attributes: Doc = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!NOT_KEPT.has(k) && !['schemas', 'displayName', 'externalId', 'members'].includes(k) && v !== null) attributes[k] = v;
  }
  return {
    displayName: requiredString(doc.displayName, 'displayName'),
    externalId: optionalString(doc.externalId, 'externalId'),
    attributes,
    members: memberIds(doc.members),
  };
}

/** The document a PATCH edits: what the client may change (no id, meta, groups). */
export function userDocument(u: ScimUserRecord): Doc {
  return {
    ...u.attributes,
    schemas: schemasOf(USER_URN, u.attributes),
    userName: u.userName,
    ...(u.externalId !== null ? { externalId: u.externalId } : {}),
    ...(u.displayName !== null ? { displayName: u.displayName } : {}),
    active: u.active,
    ...(u.emails.length ? { emails: u.emails } : {}),
  };
}

export function groupDocument(g: ScimGroupRecord): Doc {
  return { ...g.attributes, schemas: [GROUP_URN], displayName: g.displayName, ...(g.externalId !== null ? { externalId: g.externalId } : {}) };
}

function schemasOf(core: string, attributes: Doc): string[] {
  return [core, ...Object.keys(attributes).filter((k) => k.startsWith('urn:'))];
}

const iso = (ms: number) => new Date(ms).toISOString();

function meta(kind: 'User' | 'Group', r: { id: string; createdAt: number; updatedAt: number; version: number }, base: string): Doc {
  return { resourceType: kind, created: iso(r.createdAt), lastModified: iso(r.updatedAt), location: `${base}/${kind}s/${r.id}`, version: etag(r.version) };
}

export const etag = (version: number): string => `W/"${version}"`;

export function renderUser(u: ScimUserRecord, groups: Array<{ id: string; displayName: string }>, base: string): Doc {
  const { schemas, ...doc } = userDocument(u);
  return {
    schemas,
    id: u.id,
    ...doc,
    groups: groups.map((g) => ({ value: g.id, display: g.displayName, $ref: `${base}/Groups/${g.id}`, type: 'direct' })),
    meta: meta('User', u, base),
  };
}

export function renderGroup(g: ScimGroupRecord, members: ScimMember[] | null, base: string): Doc {
  const { schemas, ...doc } = groupDocument(g);
  return {
    schemas,
    id: g.id,
    ...doc,
    ...(members ? { members: members.map((m) => ({ value: m.value, display: m.display, $ref: `${base}/Users/${m.value}`, type: 'User' })) } : {}),
    meta: meta('Group', g, base),
  };
}

/** `attributes` / `excludedAttributes` (§3.9) at top level; id and schemas are always returned. */
export function project(doc: Doc, attributes: string[] | null, excluded: string[]): Doc {
  const lower = (list: string[]) => new Set(list.map((a) => a.replace(/^urn:.*:(User|Group):/i, '').split('.')[0]!.toLowerCase()));
  const keep = attributes ? lower(attributes) : null;
  const drop = lower(excluded);
  const out: Doc = {};
  for (const [k, v] of Object.entries(doc)) {
    const l = k.toLowerCase();
    if (k === 'id' || k === 'schemas' || ((!keep || keep.has(l) || l === 'meta') && !drop.has(l))) out[k] = v;
  }
  return out;
}

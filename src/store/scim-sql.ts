// SCIM filters → SQL WHERE clauses, and SCIM rows → records, shared by the SQLite and PostgreSQL
// drivers (each passes its table names and its placeholder style). Case-insensitive attributes
// (userName, displayName, emails) are compared through *_key columns that JavaScript lower-cases
// on write, so both databases agree on Unicode case (SQLite's lower() folds ASCII only).
import { StoreQueryError } from './cursor.js';
import type { AttrPath, ScimEmail, ScimFilter, ScimGroupRecord, ScimUserRecord } from './scim-types.js';

export interface ScimTables {
  users: string;
  emails: string;
  groups: string;
  members: string;
}

/** Adds a parameter and returns its placeholder (`?` or `$n`). */
export type Param = (value: string | number | boolean) => string;

type Kind = 'ci' | 'exact' | 'bool' | 'time';
interface Column {
  expr: string;
  kind: Kind;
}
/** A multi-valued attribute kept in its own table: `EXISTS (… WHERE link AND <condition on alias>)`. */
interface Multi {
  from: (t: ScimTables) => string;
  link: string;
  subs: Record<string, Column>;
  /** The sub-attribute a bare name compares (emails eq "x" is emails.value eq "x"). */
  bare: string;
}

const USER_COLUMNS: Record<string, Column> = {
  id: { expr: 'u.id', kind: 'exact' },
  username: { expr: 'u.user_name_key', kind: 'ci' },
  externalid: { expr: 'u.external_id', kind: 'exact' },
  displayname: { expr: 'u.display_name_key', kind: 'ci' },
  active: { expr: 'u.active', kind: 'bool' },
  'meta.created': { expr: 'u.created_at', kind: 'time' },
  'meta.lastmodified': { expr: 'u.updated_at', kind: 'time' },
};
const USER_MULTI: Record<string, Multi> = {
  emails: {
    from: (t) => `${t.emails} e`,
    link: 'e.user_id = u.id',
    subs: { value: { expr: 'e.value_key', kind: 'ci' }, type: { expr: 'e.type_key', kind: 'ci' }, primary: { expr: 'e.is_primary', kind: 'bool' } },
    bare: 'value',
  },
};
const GROUP_COLUMNS: Record<string, Column> = {
  id: { expr: 'g.id', kind: 'exact' },
  displayname: { expr: 'g.display_name_key', kind: 'ci' },
  externalid: { expr: 'g.external_id', kind: 'exact' },
  'meta.created': { expr: 'g.created_at', kind: 'time' },
  'meta.lastmodified': { expr: 'g.updated_at', kind: 'time' },
};
const GROUP_MULTI: Record<string, Multi> = {
  members: { from: (t) => `${t.members} m`, link: 'm.group_id = g.id', subs: { value: { expr: 'm.user_id', kind: 'exact' } }, bare: 'value' },
};

const bad = (message: string) => new StoreQueryError('filter', message);

const CORE = /^urn:ietf:params:scim:schemas:core:2\.0:(user|group)$/i;

function key(attr: AttrPath): string {
  if (attr.uri && !CORE.test(attr.uri)) throw bad(`filtering on ${attr.uri}:${attr.name} is not supported`);
  return (attr.sub ? `${attr.name}.${attr.sub}` : attr.name).toLowerCase();
}

/** `emails.value eq "x"` → EXISTS (SELECT 1 FROM emails e WHERE e.user_id = u.id AND e.value_key = ?). */
function exists(m: Multi, t: ScimTables, condition: string): string {
  return `EXISTS (SELECT 1 FROM ${m.from(t)} WHERE ${m.link} AND ${condition})`;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function comparison(col: Column, f: Extract<ScimFilter, { attr: AttrPath }>, p: Param, name: string): string {
  if (f.op === 'has') throw bad(`"${name}[…]" nests`);
  if (f.op === 'pr') return col.kind === 'ci' || col.kind === 'exact' ? `(${col.expr} IS NOT NULL AND ${col.expr} <> '')` : `${col.expr} IS NOT NULL`;
  const v = f.value;
  if (v === null) {
    if (f.op === 'eq') return `${col.expr} IS NULL`;
    if (f.op === 'ne') return `${col.expr} IS NOT NULL`;
    throw bad(`${name}: ${f.op} null compares nothing`);
  }
  const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[f.op as string];
  if (col.kind === 'bool') {
    if (typeof v !== 'boolean' || (f.op !== 'eq' && f.op !== 'ne')) throw bad(`${name} compares only with eq/ne true or false`);
    return `${col.expr} ${sqlOp} ${p(v)}`;
  }
  if (col.kind === 'time') {
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms) || !sqlOp) throw bad(`${name} compares with eq, ne, gt, ge, lt, le and an ISO time like "2026-12-01T00:00:00Z"`);
    return `${col.expr} ${sqlOp} ${p(ms)}`;
  }
  if (typeof v !== 'string') throw bad(`${name} compares with a "quoted string"`);
  const value = col.kind === 'ci' ? v.toLowerCase() : v;
  if (f.op === 'ne') return `(${col.expr} IS NULL OR ${col.expr} <> ${p(value)})`;
  if (sqlOp) {
    if (col.kind === 'exact' && f.op !== 'eq') throw bad(`${name} compares only with eq, ne and pr`);
    return `${col.expr} ${sqlOp} ${p(value)}`;
  }
  if (col.kind === 'exact') throw bad(`${name} compares only with eq, ne and pr`);
  const pattern = f.op === 'co' ? `%${escapeLike(value)}%` : f.op === 'sw' ? `${escapeLike(value)}%` : `%${escapeLike(value)}`;
  return `${col.expr} LIKE ${p(pattern)} ESCAPE '\\'`;
}

function compile(f: ScimFilter, columns: Record<string, Column>, multi: Record<string, Multi>, t: ScimTables, p: Param, supported: string): string {
  switch (f.op) {
    case 'and':
    case 'or':
      return `(${compile(f.left, columns, multi, t, p, supported)} ${f.op.toUpperCase()} ${compile(f.right, columns, multi, t, p, supported)})`;
    case 'not':
      return `NOT (${compile(f.filter, columns, multi, t, p, supported)})`;
    case 'has': {
      const m = multi[key(f.attr)];
      if (!m) throw bad(`"${f.attr.name}[…]": only ${Object.keys(multi).join(', ')} can be filtered by element`);
      return exists(m, t, compile(f.filter, m.subs, {}, t, p, Object.keys(m.subs).join(', ')));
    }
    default: {
      const name = key(f.attr);
      const col = columns[name];
      if (col) return comparison(col, f, p, name);
      const [base, sub] = name.split('.') as [string, string | undefined];
      const m = multi[base];
      const subCol = m?.subs[sub ?? m.bare];
      if (m && subCol) return exists(m, t, comparison(subCol, f, p, name));
      throw bad(`filtering on "${f.attr.sub ? `${f.attr.name}.${f.attr.sub}` : f.attr.name}" is not supported; use ${supported}`);
    }
  }
}

const USER_SUPPORTED = 'userName, externalId, displayName, active, id, emails(.value/.type/.primary), meta.created, meta.lastModified';
const GROUP_SUPPORTED = 'displayName, externalId, id, members(.value), meta.created, meta.lastModified';

/** A WHERE condition on `u` (users) or `g` (groups). Throws StoreQueryError('filter') for what it cannot compare. */
export function scimWhere(kind: 'users' | 'groups', f: ScimFilter | undefined, t: ScimTables, p: Param): string {
  if (!f) return 'TRUE';
  return kind === 'users' ? compile(f, USER_COLUMNS, USER_MULTI, t, p, USER_SUPPORTED) : compile(f, GROUP_COLUMNS, GROUP_MULTI, t, p, GROUP_SUPPORTED);
}

// --- rows -----------------------------------------------------------------------------------

/** JSON columns: TEXT in SQLite, JSONB (already parsed) in PostgreSQL. */
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

export interface ScimUserRow {
  id: string;
  user_name: string;
  external_id: string | null;
  display_name: string | null;
  active: number | boolean;
  primary_email: string | null;
  emails: unknown;
  attributes: unknown;
  version: number | string;
  created_at: number | string;
  updated_at: number | string;
}

export function scimUserFromRow(r: ScimUserRow): ScimUserRecord {
  return {
    id: r.id,
    userName: r.user_name,
    externalId: r.external_id,
    displayName: r.display_name,
    active: r.active === true || r.active === 1,
    emails: json<ScimEmail[]>(r.emails),
    primaryEmail: r.primary_email,
    attributes: json<Record<string, unknown>>(r.attributes),
    version: Number(r.version),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface ScimGroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  attributes: unknown;
  version: number | string;
  created_at: number | string;
  updated_at: number | string;
}

export function scimGroupFromRow(r: ScimGroupRow): ScimGroupRecord {
  return {
    id: r.id,
    displayName: r.display_name,
    externalId: r.external_id,
    attributes: json<Record<string, unknown>>(r.attributes),
    version: Number(r.version),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The values written for a user row (both drivers, in this column order). */
export const SCIM_USER_COLUMNS = 'id, user_name, user_name_key, external_id, display_name, display_name_key, active, primary_email, emails, attributes, version, created_at, updated_at';

export function scimUserValues(u: ScimUserRecord, bool: (b: boolean) => number | boolean): Array<string | number | boolean | null> {
  return [
    u.id, u.userName, u.userName.toLowerCase(), u.externalId, u.displayName, u.displayName?.toLowerCase() ?? null, bool(u.active),
    u.primaryEmail, JSON.stringify(u.emails), JSON.stringify(u.attributes), u.version, u.createdAt, u.updatedAt,
  ];
}

export const SCIM_GROUP_COLUMNS = 'id, display_name, display_name_key, external_id, attributes, version, created_at, updated_at';

export function scimGroupValues(g: ScimGroupRecord): Array<string | number | null> {
  return [g.id, g.displayName, g.displayName.toLowerCase(), g.externalId, JSON.stringify(g.attributes), g.version, g.createdAt, g.updatedAt];
}

/** One row per email for the emails(.value/.type/.primary) filters. */
export function scimEmailRows(u: ScimUserRecord): Array<{ value: string; type: string | null; primary: boolean }> {
  const seen = new Set<string>();
  const rows = [];
  for (const e of u.emails) {
    const value = e.value.toLowerCase();
    if (seen.has(value)) continue;
    seen.add(value);
    rows.push({ value, type: e.type?.toLowerCase() ?? null, primary: e.primary === true });
  }
  return rows;
}

/** Who a membership change really changed: removed and not added back, or added and not there before. */
export function changedMembers(removed: Set<string>, added: Set<string>): string[] {
  return [...[...removed].filter((id) => !added.has(id)), ...[...added].filter((id) => !removed.has(id))];
}

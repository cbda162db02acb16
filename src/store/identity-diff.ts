// What changed between a user's previous session and a new one: groups added/removed and the names
// of top-level claims whose values differ. Pure, shared by every store, so "groups +admins since …"
// means the same thing on SQLite and PostgreSQL.
import type { IdentityChange } from './types.js';

/** Claims that differ on every token by construction; a change in them says nothing about the user. */
export const PER_TOKEN_CLAIMS: ReadonlySet<string> = new Set([
  'jti',
  'iat',
  'exp',
  'nbf',
  'auth_time',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'sid',
  'uti',
  'rh',
  'session_state',
]);

export interface IdentitySnapshot {
  groups: readonly string[];
  claims: Readonly<Record<string, unknown>>;
}

/** The change from `prev` to `next`, or null when groups and (non per-token) claims are the same. */
export function diffIdentity(prev: IdentitySnapshot, next: IdentitySnapshot): IdentityChange['change'] | null {
  const change: IdentityChange['change'] = {};
  const before = new Set(prev.groups);
  const after = new Set(next.groups);
  const added = [...after].filter((g) => !before.has(g)).sort();
  const removed = [...before].filter((g) => !after.has(g)).sort();
  if (added.length > 0 || removed.length > 0) change.groups = { added, removed };

  const changed: string[] = [];
  const names = new Set([...Object.keys(prev.claims), ...Object.keys(next.claims)]);
  for (const name of names) {
    if (PER_TOKEN_CLAIMS.has(name)) continue;
    const a = prev.claims[name];
    const b = next.claims[name];
    if (stableJson(a) === stableJson(b)) continue;
    // The groups claim (whatever it is called) is already reported as groups +/-.
    if (isGroupsClaim(a, prev.groups) && isGroupsClaim(b, next.groups)) continue;
    changed.push(name);
  }
  if (changed.length > 0) change.claims = { changed: changed.sort() };
  return change.groups || change.claims ? change : null;
}

function isGroupsClaim(value: unknown, groups: readonly string[]): boolean {
  if (!Array.isArray(value) || value.length !== groups.length) return false;
  const set = new Set(groups);
  return value.every((v) => typeof v === 'string' && set.has(v));
}

/** JSON with object keys sorted, so {a,b} and {b,a} compare equal. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

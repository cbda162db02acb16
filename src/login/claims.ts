// From what an OIDC provider said to the identity a Gatehouse session carries. Pure: tested alone.
//   sub     the ID token's sub
//   email   ID token, else userinfo (many providers put it only in userinfo); refused when the
//           provider says email_verified: false, because policies trust the address
//   name    name, else given + family name, else preferred_username
//   groups  groups_claim (a dotted path reaches into objects: realm_access.roles), a string or a list
//   amr     the ID token's amr when it has one (e.g. ["pwd","mfa"]), else ["oidc"]: we cannot tell
//           how the user authenticated, and must not claim more than the provider did
// Other claims are carried along (for `claim:` policies and the audit) while they stay small.
import type { SessionClaims } from '../auth/session-token.js';

/** Protocol claims that describe the ID token, not the person. */
const PROTOCOL = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'at_hash', 'c_hash', 's_hash', 'auth_time', 'sid', 'azp', 'acr', 'amr', 'sub', 'email_verified', 'updated_at']);
/** Set by the mapping itself. */
const CORE = new Set(['email', 'name', 'groups', 'idp']);
/** Budget for carried-along claims, so the session cookie stays well under the 4 KB cookie limit. */
export const EXTRA_CLAIMS_BUDGET = 1024;

export type ClaimsResult = { ok: true; claims: SessionClaims } | { ok: false; reason: 'email_not_verified' | 'no_subject' };

export function lookup(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  return [];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function mapOidcClaims(
  idToken: Record<string, unknown>,
  userinfo: Record<string, unknown> | null,
  provider: { id: string; groupsClaim: string },
): ClaimsResult {
  const sub = str(idToken.sub);
  if (!sub) return { ok: false, reason: 'no_subject' };
  // The ID token wins where both speak; userinfo fills in what the ID token left out.
  const merged: Record<string, unknown> = { ...(userinfo ?? {}), ...idToken };
  const email = str(merged.email);
  const verified = idToken.email !== undefined ? idToken.email_verified : (userinfo?.email_verified ?? idToken.email_verified);
  if (email && (verified === false || verified === 'false')) return { ok: false, reason: 'email_not_verified' };
  const given = [str(merged.given_name), str(merged.family_name)].filter(Boolean).join(' ');
  const name = str(merged.name) ?? (given || str(merged.preferred_username));
  const amr = strings(idToken.amr);
  const claims: SessionClaims = {
    ...extras(merged, provider.groupsClaim),
    sub,
    ...(email ? { email: email.toLowerCase() } : {}),
    ...(name ? { name } : {}),
    groups: [...new Set(strings(lookup(merged, provider.groupsClaim)))],
    idp: provider.id,
    amr: amr.length ? amr : ['oidc'],
  };
  return { ok: true, claims };
}

/** Person claims beyond the core ones, in order, while the total stays within the budget. */
function extras(merged: Record<string, unknown>, groupsClaim: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let used = 0;
  for (const [k, v] of Object.entries(merged)) {
    if (PROTOCOL.has(k) || CORE.has(k) || k === groupsClaim || v === undefined || v === null) continue;
    const size = k.length + JSON.stringify(v).length + 4;
    if (used + size > EXTRA_CLAIMS_BUDGET) continue;
    used += size;
    out[k] = v;
  }
  return out;
}

// Finds the one credential a request carries: the session cookie, a Bearer token, or a service token
// (client id + secret headers). Two different credentials on one request are refused as a conflict
// rather than guessing which identity the caller meant. Runs on every request: no allocation beyond
// what the answer needs, and the cookie header is fully parsed only when it mentions our cookie.
import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseCookie } from 'cookie';

export const CLIENT_ID_HEADER = 'gatehouse-client-id';
export const CLIENT_SECRET_HEADER = 'gatehouse-client-secret';

export type Credential =
  | { kind: 'none' }
  | { kind: 'cookie' | 'bearer'; token: string }
  | { kind: 'service'; clientId: string; secret: string }
  | { kind: 'conflict' };

const NONE: Credential = Object.freeze({ kind: 'none' });
const CONFLICT: Credential = Object.freeze({ kind: 'conflict' });

/** The gateway cookie's value; null when absent; CONFLICT_MARK when sent several times with different values. */
const CONFLICT_MARK = '\0conflict';

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  const first = header.indexOf(name);
  if (first === -1) return null;
  if (header.indexOf(name, first + name.length) === -1) {
    // The name occurs once: the common case, one parse.
    // An empty value (a cleared cookie) counts as no cookie.
    return parseCookie(header)[name] || null;
  }
  // The name occurs more than once (a duplicate, or a longer cookie name containing ours): look at
  // each pair on its own, with the cookie package's own name/value rules.
  let found: string | null = null;
  for (const pair of header.split(';')) {
    const value = parseCookie(pair)[name];
    if (!value) continue;
    if (found === null) found = value;
    else if (found !== value) return CONFLICT_MARK;
  }
  return found;
}

function bearer(header: string | undefined): string | null {
  // "Bearer" is case-insensitive (RFC 6750 §2.1 → RFC 7235 auth-scheme). Other schemes (Basic …)
  // belong to the upstream and are not ours to judge.
  if (!header || header.length < 7) return null;
  if (header.charCodeAt(6) !== 32 || header.slice(0, 6).toLowerCase() !== 'bearer') return null;
  return header.slice(7).trim();
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

export function extractCredential(headers: IncomingHttpHeaders, cookieName: string): Credential {
  const fromCookie = cookieValue(headers.cookie, cookieName);
  if (fromCookie === CONFLICT_MARK) return CONFLICT;
  const fromBearer = bearer(headers.authorization);
  const clientId = single(headers[CLIENT_ID_HEADER]);
  const secret = single(headers[CLIENT_SECRET_HEADER]);

  if (clientId !== undefined || secret !== undefined) {
    if (fromCookie !== null || fromBearer !== null) return CONFLICT;
    // One of the pair alone is still a service-token attempt; it fails verification.
    return { kind: 'service', clientId: clientId ?? '', secret: secret ?? '' };
  }
  if (fromBearer !== null) {
    // The same token in cookie and header is one identity (some clients copy the cookie).
    if (fromCookie !== null && fromCookie !== fromBearer) return CONFLICT;
    return { kind: 'bearer', token: fromBearer };
  }
  if (fromCookie !== null) return { kind: 'cookie', token: fromCookie };
  return NONE;
}

// Mints the gateway's session JWT at login: iss/aud "gatehouse", a random jti (the session id the
// audit and revocations use), signed with the newest key of the KeySet.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Identity } from '../policy/types.js';
import type { KeySet } from './keys.js';
import { GATEWAY_AUDIENCE, GATEWAY_ISSUER } from './verify.js';

export interface SessionClaims {
  sub: string;
  email?: string;
  name?: string;
  groups: string[];
  idp: string;
  amr: string[];
  [claim: string]: unknown;
}

export interface MintedSession {
  token: string;
  /** The session id. */
  jti: string;
  /** Epoch seconds. */
  issuedAt: number;
  expiresAt: number;
}

/**
 * The claim linking the sessions of one sign-in: the login host's session, the app hosts it hands
 * off to, and a later sign-in in the same browser. Sign-out revokes them together.
 */
export const LOGIN_ID_CLAIM = 'login_id';

/** The sign-in a gateway session belongs to; null for other credentials and older sessions. */
export function loginIdOf(identity: Identity): string | null {
  const v = identity.kind === 'session' ? identity.claims[LOGIN_ID_CLAIM] : undefined;
  return typeof v === 'string' && v !== '' ? v : null;
}

// Set by the gateway only; an extra claim of the same name is ignored.
const RESERVED = ['iss', 'aud', 'exp', 'iat', 'nbf', 'jti'];

export async function mintSessionToken(
  keys: KeySet,
  claims: SessionClaims,
  durationMs: number,
  now = Date.now(),
): Promise<MintedSession> {
  const payload: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claims)) if (!RESERVED.includes(k) && v !== undefined) payload[k] = v;
  const jti = randomUUID();
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = Math.floor((now + durationMs) / 1000);
  const { kid, alg, key } = keys.signingKey;
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(GATEWAY_ISSUER)
    .setAudience(GATEWAY_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(jti)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(key);
  return { token, jti, issuedAt, expiresAt };
}

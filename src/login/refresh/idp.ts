// One refresh at the IdP: the refresh token grant, then userinfo with the new access token, mapped
// to a session's claims exactly as at sign-in (claims.ts). The answer says what the refresher does:
// `ok` (new identity), `rejected` (the IdP says no: the session is revoked) or `unreachable` (try
// again; the last identity stays valid up to refresh_max_stale). Never logs a token.
import * as client from 'openid-client';
import type { SessionClaims } from '../../auth/session-token.js';
import { mapOidcClaims } from '../claims.js';
import { describe, type OidcProvider } from '../oidc.js';

export type RefreshAnswer =
  | { kind: 'ok'; claims: SessionClaims; refreshToken: string | null }
  | { kind: 'rejected'; why: string }
  | { kind: 'unreachable'; why: string };

/**
 * What an error from the token or userinfo endpoint means. `invalid_grant` (revoked or expired
 * refresh token, disabled or deleted account) and a refused access token are the IdP saying no;
 * anything else — network, timeout, 5xx, a client misconfiguration — is not about this user and
 * must not sign everyone out: it counts as unreachable.
 */
function classify(err: unknown): RefreshAnswer {
  if (err instanceof client.ResponseBodyError && err.status < 500 && err.error === 'invalid_grant') return { kind: 'rejected', why: 'invalid_grant' };
  if (err instanceof client.WWWAuthenticateChallengeError && err.status === 401) return { kind: 'rejected', why: 'userinfo_refused' };
  return { kind: 'unreachable', why: describe(err) };
}

/** Whether the provider has a userinfo endpoint, per discovered configuration (serverMetadata() deep-copies the metadata on every call). */
const userinfoKnown = new WeakMap<client.Configuration, boolean>();
function hasUserinfo(c: client.Configuration): boolean {
  let has = userinfoKnown.get(c);
  if (has === undefined) userinfoKnown.set(c, (has = Boolean(c.serverMetadata().userinfo_endpoint)));
  return has;
}

export async function refreshAtIdp(p: OidcProvider, refreshToken: string, subject: string): Promise<RefreshAnswer> {
  let c: client.Configuration;
  let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
  try {
    c = await p.configuration();
    tokens = await client.refreshTokenGrant(c, refreshToken);
  } catch (err) {
    return classify(err);
  }
  const idClaims = (tokens.claims() as Record<string, unknown> | undefined) ?? { sub: subject };
  if (idClaims.sub !== subject) return { kind: 'rejected', why: 'subject_changed' };
  let userinfo: Record<string, unknown> | null = null;
  if (hasUserinfo(c) && tokens.access_token) {
    try {
      userinfo = (await client.fetchUserInfo(c, tokens.access_token, subject)) as Record<string, unknown>;
    } catch (err) {
      return classify(err);
    }
  }
  // Userinfo is asked on every refresh, never skipped because the ID token "looks complete": OIDC
  // Core 12.2 does not promise current claims in a refreshed ID token (it may even be absent).
  // Fresh userinfo wins over a refreshed ID token here (sign-in prefers the ID token): it is the
  // answer to "who is this now", and some IdPs send a refreshed ID token with the old claims.
  const mapped = mapOidcClaims({ ...idClaims, ...(userinfo ?? {}), sub: subject }, null, p.cfg);
  if (!mapped.ok) return { kind: 'rejected', why: mapped.reason };
  return { kind: 'ok', claims: mapped.claims, refreshToken: tokens.refresh_token ?? null };
}

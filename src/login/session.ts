// Mints the gateway session at the end of a successful sign-in and records it — full identity plus
// network context (client address, user agent, country) — before it is ever used.
import type { AppConfig } from '../config/types.js';
import type { RequestContext } from '../context.js';
import { randomUUID } from 'node:crypto';
import { LOGIN_ID_CLAIM, loginIdOf, mintSessionToken, type MintedSession, type SessionClaims } from '../auth/session-token.js';
import { GATEWAY_AUDIENCE, GATEWAY_ISSUER } from '../auth/verify.js';
import type { KeySet } from '../auth/keys.js';
import type { Identity } from '../policy/types.js';
import { sessionUpsert, type Recorder } from '../audit/recorder.js';

/** Browsers drop cookies over 4096 bytes (name, value and attributes together). */
export const MAX_TOKEN_BYTES = 3800;
const CORE = ['sub', 'email', 'name', 'groups', 'idp', 'amr', LOGIN_ID_CLAIM];

export interface SessionDeps {
  keys(): KeySet;
  recorder(): Recorder;
  /** The SCIM user behind this email, if provisioned (store.scim.scimStanding): deactivated ones get no session. */
  standing?(email: string): Promise<{ active: boolean } | null>;
}

/** A sign-in the IdP accepted but Gatehouse refuses (the SCIM user is deactivated): a 403 page saying why. */
export class SignInRefusedError extends Error {
  constructor(
    readonly reason: 'scim_inactive',
    readonly email: string,
    message: string,
  ) {
    super(message);
    this.name = 'SignInRefusedError';
  }
}

/**
 * A user whom SCIM deactivated (active: false) gets no new session, however the IdP answered (an
 * IdP that has not caught up, a local users file): refused, recorded as a decision with its reason,
 * before any token is minted. A store that cannot answer fails the sign-in (closed).
 */
async function checkStanding(deps: SessionDeps, ctx: RequestContext, claims: SessionClaims): Promise<void> {
  if (!deps.standing || !claims.email) return;
  const standing = await deps.standing(claims.email);
  if (!standing || standing.active) return;
  const detail = `sign-in refused: the SCIM user ${claims.email} is deactivated (active: false)`;
  deps.recorder().signInRefused(ctx, { email: claims.email, idp: claims.idp ?? null, reason: 'scim_inactive', detail });
  throw new SignInRefusedError('scim_inactive', claims.email, 'Your account is deactivated in the organization’s directory (SCIM). Ask your administrator to reactivate it.');
}

export class SessionTooLargeError extends Error {
  constructor(bytes: number) {
    super(`the session token would be ${bytes} bytes (too many groups?); browsers refuse cookies over 4 KB`);
  }
}

/** The app's session_duration, else session.duration. */
export function sessionDuration(ctx: RequestContext, app: AppConfig | undefined): number {
  return app?.sessionDurationMs ?? ctx.config.session.durationMs;
}

/**
 * The sign-in a new session joins: the one of the session this browser already has on this host
 * (a sign-in for an app that needs a shorter session, or as someone else), else a new one. A
 * session from before login ids counts as its own sign-in.
 */
function loginIdFor(ctx: RequestContext): string {
  const id = ctx.identity;
  if (id?.kind !== 'session' || ctx.credentialSource !== 'cookie') return randomUUID();
  return loginIdOf(id) ?? id.sessionId;
}

/** `idpSid`: the OIDC provider's session id, recorded for back-channel logout. */
export async function issueSession(deps: SessionDeps, ctx: RequestContext, idpClaims: SessionClaims, durationMs: number, idpSid: string | null = null): Promise<MintedSession> {
  await checkStanding(deps, ctx, idpClaims);
  const now = Date.now();
  let claims: SessionClaims = { ...idpClaims, [LOGIN_ID_CLAIM]: loginIdFor(ctx) };
  let minted = await mintSessionToken(deps.keys(), claims, durationMs, now);
  if (minted.token.length > MAX_TOKEN_BYTES) {
    // Keep the identity policies need; drop the carried-along extras.
    const core = Object.fromEntries(Object.entries(claims).filter(([k]) => CORE.includes(k))) as SessionClaims;
    minted = await mintSessionToken(deps.keys(), core, durationMs, now);
    if (minted.token.length > MAX_TOKEN_BYTES) throw new SessionTooLargeError(minted.token.length);
    claims = core;
  }
  await deps.recorder().sessionNow({ ...sessionUpsert(identityOf(claims, minted), ctx, now), idpSid });
  return minted;
}

/** The identity the authenticate stage will derive from this token, for the audit record. */
export function identityOf(claims: SessionClaims, minted: MintedSession): Identity {
  const verified: Record<string, unknown> = {
    ...claims,
    iss: GATEWAY_ISSUER,
    aud: GATEWAY_AUDIENCE,
    jti: minted.jti,
    iat: minted.issuedAt,
    exp: minted.expiresAt,
  };
  return {
    kind: 'session',
    sessionId: minted.jti,
    subject: claims.sub,
    ...(claims.email ? { email: claims.email } : {}),
    ...(claims.name ? { name: claims.name } : {}),
    groups: claims.groups,
    idp: claims.idp,
    amr: claims.amr,
    issuer: GATEWAY_ISSUER,
    claims: verified,
    issuedAt: minted.issuedAt,
    expiresAt: minted.expiresAt,
  };
}

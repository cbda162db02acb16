// The state of an OIDC sign-in in progress (state, nonce, PKCE verifier, provider, where to go
// after) travels in a sealed cookie (seal.ts) instead of the memory of the instance that started it,
// so any instance can finish any sign-in. One cookie per flow (its name carries a hash of the state:
// two tabs signing in at once do not overwrite each other), `__Host-` prefixed when the cookie is
// Secure (host-only, Path=/), SameSite=Lax (the IdP's redirect back is a top-level GET), at most
// FLOW_TTL. The sealed value is bound to its state, so a cookie swapped in from another flow does
// not open; the callback also marks the flow finished in the sign-in state, so a replayed cookie
// (copied before it was cleared) is refused on every instance.
import { createHash } from 'node:crypto';
import { serialize } from 'cookie';
import type { RequestContext } from '../context.js';
import { readCookie } from './cookies.js';
import type { Sealer } from './seal.js';

export const FLOW_TTL_MS = 10 * 60_000;
const PURPOSE = 'oidc flow';
/** Browsers drop cookies over 4096 bytes; a long `rd` falls back to its origin. */
const MAX_COOKIE_BYTES = 4000;

export interface Flow {
  providerId: string;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  rd: string;
  /** The app host's browser-binding hash (cross-domain handoff), when there is one. */
  hb: string | null;
  /** Epoch ms. */
  expiresAt: number;
}

export type OpenedFlow = { ok: true; flow: Flow } | { ok: false; reason: 'no_cookie' | 'not_this_flow' | 'expired' };

/** Short, stable id of a flow (cookie name suffix, replay mark): never the state itself. */
export const flowId = (state: string): string => createHash('sha256').update(state).digest('base64url').slice(0, 22);

function cookieName(ctx: RequestContext, state: string): string {
  return `${ctx.config.session.secureCookie ? '__Host-' : ''}gatehouse_oidc_${flowId(state)}`;
}

function cookie(ctx: RequestContext, state: string, value: string, maxAgeSec: number): string {
  return serialize(cookieName(ctx, state), value, { httpOnly: true, secure: ctx.config.session.secureCookie, sameSite: 'lax', path: '/', maxAge: maxAgeSec });
}

/** The Set-Cookie that carries a new flow to the callback. */
export function flowCookie(ctx: RequestContext, sealer: Sealer, flow: Flow): string {
  let c = cookie(ctx, flow.state, sealer.seal(PURPOSE, flow, flow.state), Math.floor(FLOW_TTL_MS / 1000));
  if (c.length > MAX_COOKIE_BYTES) {
    const short = { ...flow, rd: `${new URL(flow.rd).origin}/` };
    c = cookie(ctx, flow.state, sealer.seal(PURPOSE, short, flow.state), Math.floor(FLOW_TTL_MS / 1000));
  }
  return c;
}

/** The flow this callback's state belongs to, from this browser's cookie. */
export function openFlow(ctx: RequestContext, sealer: Sealer, state: string, now = Date.now()): OpenedFlow {
  const value = readCookie(ctx, cookieName(ctx, state));
  if (!value) return { ok: false, reason: 'no_cookie' };
  const flow = sealer.open<Flow>(PURPOSE, value, state);
  if (!flow || flow.state !== state) return { ok: false, reason: 'not_this_flow' };
  if (flow.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, flow };
}

/** Removes the flow's cookie (every callback answer sends it). */
export function clearFlowCookie(ctx: RequestContext, state: string): string {
  return cookie(ctx, state, '', 0);
}

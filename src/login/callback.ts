// /.gatehouse/callback — the IdP sends the browser back here with a code, on whichever instance the
// load balancer picks. The state must match this browser's sealed flow cookie (flow-cookie.ts: issued
// by a gateway sharing our keys, not older than 10 minutes, started in this same browser) and not be
// finished already (a mark in the shared sign-in state); openid-client then checks the code exchange
// (PKCE), the ID token (signature, iss, aud, exp, nonce) and userinfo. Any failure: no session, an
// error page with a way to start again.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { appFor, fail, loginHref, query, type LoginDeps } from './deps.js';
import { clearFlowCookie, flowId, openFlow, type Flow } from './flow-cookie.js';
import { completeSignIn } from './handoff.js';
import { OidcProvider, describe } from './oidc.js';
import { redirectTarget } from './redirect.js';
import { issueSession, sessionDuration, SignInRefusedError } from './session.js';

/** The flow of this callback, once: null (and the error page sent) otherwise. */
async function takeFlow(d: LoginDeps, ctx: RequestContext, res: ServerResponse, state: string | null): Promise<Flow | null> {
  const opened = state ? openFlow(ctx, d.sealer, state) : ({ ok: false, reason: 'no_state' } as const);
  const fresh = opened.ok && (await d.state.advance(`flow:${flowId(opened.flow.state)}`, 1, opened.flow.expiresAt, Date.now()));
  if (opened.ok && fresh) return opened.flow;
  const reason = opened.ok ? 'replayed' : opened.reason;
  d.logger.warn({ requestId: ctx.requestId, reason }, 'sign-in callback refused');
  const message =
    reason === 'replayed'
      ? 'This sign-in was already completed. Start again to sign in once more.'
      : 'This sign-in attempt is unknown, expired, or was started in another browser.';
  fail(ctx, res, 400, 'Sign-in failed', message, loginHref('/'), state ? [clearFlowCookie(ctx, state)] : []);
  return null;
}

export async function callback(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const q = query(ctx);
  const state = q.get('state');
  const flow = await takeFlow(d, ctx, res, state);
  if (!flow) return;
  // The flow is spent: its cookie goes with every answer from here on.
  const cleared = [clearFlowCookie(ctx, flow.state)];
  const rd = redirectTarget(flow.rd, ctx);
  const again = loginHref(rd);
  const app = appFor(ctx, rd);
  // Still configured, and still offered for the app (the config may have changed meanwhile).
  const offered = d.registry.allowed(ctx.config, app).some((p) => p.id === flow.providerId);
  const provider = offered ? d.registry.get(ctx.config, flow.providerId) : undefined;
  if (!(provider instanceof OidcProvider)) return fail(ctx, res, 400, 'Sign-in failed', 'This sign-in method is no longer configured.', again, cleared);

  const idpError = q.get('error');
  if (idpError) {
    const detail = q.get('error_description');
    d.logger.info({ idp: provider.id, error: idpError, detail, requestId: ctx.requestId }, 'identity provider refused the sign-in');
    return fail(ctx, res, 403, 'Sign-in refused', `${provider.cfg.name} did not sign you in (${idpError}${detail ? `: ${detail}` : ''}).`, again, cleared);
  }

  let result;
  try {
    result = await provider.finish(ctx.query.slice(1), flow);
  } catch (err) {
    d.logger.warn({ idp: provider.id, error: describe(err), requestId: ctx.requestId }, 'sign-in callback failed');
    return fail(ctx, res, 400, 'Sign-in failed', `The answer from ${provider.cfg.name} could not be verified.`, again, cleared);
  }
  if (!result.ok) {
    d.logger.warn({ idp: provider.id, reason: result.reason, requestId: ctx.requestId }, 'sign-in refused');
    const why = result.reason === 'email_not_verified' ? 'your email address is not verified there' : 'it sent no user id';
    return fail(ctx, res, 403, 'Sign-in refused', `${provider.cfg.name} signed you in, but ${why}.`, again, cleared);
  }
  let minted;
  try {
    minted = await issueSession(d.session, ctx, result.claims, sessionDuration(ctx, app), result.sid);
  } catch (err) {
    if (!(err instanceof SignInRefusedError)) throw err;
    d.logger.warn({ idp: provider.id, email: err.email, reason: err.reason, requestId: ctx.requestId }, 'sign-in refused');
    return fail(ctx, res, 403, 'Sign-in refused', err.message, undefined, cleared);
  }
  d.logger.info({ idp: provider.id, email: result.claims.email, sessionId: minted.jti, requestId: ctx.requestId }, 'signed in');
  // Kept (sealed) only when this provider refreshes identities; never logged.
  if (provider.cfg.refreshMs !== undefined) await d.refreshGrants.register(minted.jti, provider, result.refreshToken, minted.issuedAt * 1000);
  await completeSignIn(ctx, res, d.handoffs, { token: minted.token, expiresAt: minted.expiresAt }, rd, flow.hb, true, cleared);
}

// /.gatehouse/callback — the IdP sends the browser back here with a code. The state must be one this
// gateway issued, not used before, not older than 10 minutes, and started by this same browser;
// openid-client then checks the code exchange (PKCE), the ID token (signature, iss, aud, exp, nonce)
// and userinfo. Any failure: no session, an error page with a way to start again.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { bindingMatches } from './binding.js';
import { appFor, fail, loginHref, query, type LoginDeps } from './deps.js';
import { completeSignIn } from './handoff.js';
import { OidcProvider, describe } from './oidc.js';
import { redirectTarget } from './redirect.js';
import { issueSession, sessionDuration } from './session.js';

export async function callback(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const q = query(ctx);
  const state = q.get('state');
  const flow = state ? await d.flows.takeSoon(state) : undefined;
  if (!flow || !bindingMatches(ctx, flow.binding)) {
    d.logger.warn({ requestId: ctx.requestId, reason: flow ? 'other_browser' : 'unknown_state' }, 'sign-in callback refused');
    return fail(ctx, res, 400, 'Sign-in failed', 'This sign-in attempt is unknown, expired, was already completed, or was started in another browser.', loginHref('/'));
  }
  const rd = redirectTarget(flow.rd, ctx);
  const again = loginHref(rd);
  const app = appFor(ctx, rd);
  // Still configured, and still offered for the app (the config may have changed meanwhile).
  const offered = d.registry.allowed(ctx.config, app).some((p) => p.id === flow.providerId);
  const provider = offered ? d.registry.get(ctx.config, flow.providerId) : undefined;
  if (!(provider instanceof OidcProvider)) return fail(ctx, res, 400, 'Sign-in failed', 'This sign-in method is no longer configured.', again);

  const idpError = q.get('error');
  if (idpError) {
    const detail = q.get('error_description');
    d.logger.info({ idp: provider.id, error: idpError, detail, requestId: ctx.requestId }, 'identity provider refused the sign-in');
    return fail(ctx, res, 403, 'Sign-in refused', `${provider.cfg.name} did not sign you in (${idpError}${detail ? `: ${detail}` : ''}).`, again);
  }

  let result;
  try {
    result = await provider.finish(ctx.query.slice(1), flow);
  } catch (err) {
    d.logger.warn({ idp: provider.id, error: describe(err), requestId: ctx.requestId }, 'sign-in callback failed');
    return fail(ctx, res, 400, 'Sign-in failed', `The answer from ${provider.cfg.name} could not be verified.`, again);
  }
  if (!result.ok) {
    d.logger.warn({ idp: provider.id, reason: result.reason, requestId: ctx.requestId }, 'sign-in refused');
    const why = result.reason === 'email_not_verified' ? 'your email address is not verified there' : 'it sent no user id';
    return fail(ctx, res, 403, 'Sign-in refused', `${provider.cfg.name} signed you in, but ${why}.`, again);
  }
  const minted = await issueSession(d.session, ctx, result.claims, sessionDuration(ctx, app));
  d.logger.info({ idp: provider.id, email: result.claims.email, sessionId: minted.jti, requestId: ctx.requestId }, 'signed in');
  completeSignIn(ctx, res, d.handoffs, { token: minted.token, expiresAt: minted.expiresAt }, rd, flow.hb, true);
}

// /.gatehouse/login — GET: send the browser to the login host, reuse a session it already has, show
// the chooser, show the local form or start an OIDC flow. POST: the local users form.
import type { ServerResponse } from 'node:http';
import type { IdentityProviderConfig } from '../config/types.js';
import type { RequestContext } from '../context.js';
import { cookieValue } from '../auth/credentials.js';
import { browserBinding, isBindingHash } from './binding.js';
import { sameOrigin } from './csrf.js';
import { appFor, fail, loginHostOf, loginHref, query, type LoginDeps } from './deps.js';
import { readForm } from './form-body.js';
import { FLOW_TTL_MS, flowCookie } from './flow-cookie.js';
import { completeSignIn, type SessionRef } from './handoff.js';
import { redirect, sendHtml } from './html.js';
import { LocalProvider } from './local.js';
import { OidcProvider, describe } from './oidc.js';
import { chooserPage, loginFormPage } from './pages.js';
import { originOf, redirectTarget } from './redirect.js';
import { issueSession, sessionDuration } from './session.js';

/** A session of this host is reused only with a minute left, so the redirect does not land expired. */
const REUSE_MIN_REMAINING_SEC = 60;

export async function loginGet(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const q = query(ctx);
  const rd = redirectTarget(q.get('rd'), ctx);
  const app = appFor(ctx, rd);
  const allowed = d.registry.allowed(ctx.config, app);
  if (allowed.length === 0) return fail(ctx, res, 404, 'Sign-in unavailable', 'No sign-in method is configured for this application.');

  const loginHost = loginHostOf(ctx);
  if (loginHost && loginHost !== ctx.host) {
    // Sign in on the login host; bind this browser here so the handoff code only works in it.
    const b = browserBinding(ctx);
    const target = `${originOf(ctx, loginHost)}${loginHref(rd, { hb: b.hash, idp: q.get('idp') })}`;
    return redirect(ctx, res, target, [b.cookie]);
  }
  const hbParam = q.get('hb');
  const hb = isBindingHash(hbParam) ? hbParam : null;

  const existing = reusableSession(d, ctx, allowed, app?.name, sessionDuration(ctx, app));
  if (existing) return completeSignIn(ctx, res, d.handoffs, existing, rd, hb, false);

  const chosen = allowed.find((p) => p.id === q.get('idp')) ?? (allowed.length === 1 ? allowed[0] : undefined);
  if (!chosen) {
    return sendHtml(ctx, res, 200, chooserPage(allowed, (p) => loginHref(rd, { hb, idp: p.id })));
  }
  const provider = d.registry.get(ctx.config, chosen.id);
  if (provider instanceof LocalProvider) return showForm(d, ctx, res, 200, chosen, rd, hb, allowed.length > 1);
  if (provider instanceof OidcProvider) return startOidc(d, ctx, res, provider, rd, hb);
  return fail(ctx, res, 404, 'Sign-in unavailable', 'This sign-in method is not configured.');
}

/**
 * The gateway session this request already carries in its cookie, when it may serve the app asked
 * for: from an allowed provider, not revoked for it, not longer-lived than its session_duration.
 */
function reusableSession(d: LoginDeps, ctx: RequestContext, allowed: IdentityProviderConfig[], appName: string | undefined, maxDurationMs: number): SessionRef | null {
  const id = ctx.identity;
  if (!id || id.kind !== 'session' || ctx.credentialSource !== 'cookie') return null;
  if (!allowed.some((p) => p.id === id.idp)) return null;
  if (appName && d.isRevoked(id, appName)) return null;
  if ((id.expiresAt - id.issuedAt) * 1000 > maxDurationMs) return null;
  if (id.expiresAt - Date.now() / 1000 < REUSE_MIN_REMAINING_SEC) return null;
  const token = cookieValue(ctx.req.headers.cookie, ctx.config.session.cookie);
  return token && !token.startsWith('\0') ? { token, expiresAt: id.expiresAt } : null;
}

function showForm(
  d: LoginDeps,
  ctx: RequestContext,
  res: ServerResponse,
  status: number,
  provider: IdentityProviderConfig,
  rd: URL,
  hb: string | null,
  several: boolean,
  error?: string,
  email?: string,
): void {
  const csrf = d.csrf.issue(ctx);
  const page = loginFormPage({
    provider,
    rd: rd.href,
    hb,
    csrf: csrf.token,
    ...(error ? { error } : {}),
    ...(email ? { email } : {}),
    ...(several ? { chooserHref: loginHref(rd, { hb }) } : {}),
  });
  sendHtml(ctx, res, status, page, csrf.cookie ? [csrf.cookie] : []);
}

async function startOidc(d: LoginDeps, ctx: RequestContext, res: ServerResponse, provider: OidcProvider, rd: URL, hb: string | null): Promise<void> {
  const redirectUri = `${originOf(ctx)}/.gatehouse/callback`;
  let auth;
  try {
    auth = await provider.authorizationRequest(redirectUri);
  } catch (err) {
    d.logger.warn({ idp: provider.id, error: describe(err), requestId: ctx.requestId }, 'identity provider unavailable');
    return fail(ctx, res, 503, 'Sign-in unavailable', `${provider.cfg.name} cannot be reached right now. Try again in a minute.`, loginHref(rd));
  }
  const flow = { providerId: provider.id, state: auth.state, nonce: auth.nonce, verifier: auth.verifier, redirectUri, rd: rd.href, hb, expiresAt: Date.now() + FLOW_TTL_MS };
  redirect(ctx, res, auth.url.href, [flowCookie(ctx, d.sealer, flow)]);
}

/** POST /.gatehouse/login: the local users form. */
export async function loginPost(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const form = await readForm(ctx.req);
  if (!form.ok) return fail(ctx, res, form.status, 'Bad request', 'The sign-in form could not be read.', '/.gatehouse/login');
  const f = form.fields;
  const rd = redirectTarget(f.get('rd'), ctx);
  const hbField = f.get('hb');
  const hb = isBindingHash(hbField) ? hbField : null;
  const app = appFor(ctx, rd);
  const allowed = d.registry.allowed(ctx.config, app);
  const cfg = allowed.find((p) => p.id === f.get('idp'));
  const provider = d.registry.get(ctx.config, cfg?.id);
  if (!cfg || !(provider instanceof LocalProvider)) {
    return fail(ctx, res, 400, 'Sign-in unavailable', 'This sign-in method is not offered for this application.', loginHref(rd));
  }
  const email = (f.get('email') ?? '').trim();
  const several = allowed.length > 1;
  if (!sameOrigin(ctx) || !d.csrf.verify(ctx, f.get('csrf'))) {
    return showForm(d, ctx, res, 403, cfg, rd, hb, several, 'Your sign-in form expired or did not come from this site. Please try again.', email);
  }
  const result = await provider.signIn(email, f.get('password') ?? '', f.get('totp') ?? '', ctx.clientIp);
  if (!result.ok) {
    if (result.reason === 'locked') {
      const minutes = Math.max(1, Math.ceil((result.lockout.until - Date.now()) / 60_000));
      d.logger.warn({ idp: cfg.id, kind: result.lockout.kind, key: result.lockout.key, until: new Date(result.lockout.until).toISOString() }, 'sign-in locked after repeated failures');
      res.setHeader('retry-after', String(minutes * 60));
      return showForm(d, ctx, res, 429, cfg, rd, hb, several, `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, email);
    }
    d.logger.info({ idp: cfg.id, clientIp: ctx.clientIp, requestId: ctx.requestId }, 'sign-in failed');
    return showForm(d, ctx, res, 401, cfg, rd, hb, several, 'Incorrect email, password or one-time code.', email);
  }
  const minted = await issueSession(d.session, ctx, result.claims, sessionDuration(ctx, app));
  d.logger.info({ idp: cfg.id, email: result.claims.email, sessionId: minted.jti, requestId: ctx.requestId }, 'signed in');
  await completeSignIn(ctx, res, d.handoffs, { token: minted.token, expiresAt: minted.expiresAt }, rd, hb, true);
}

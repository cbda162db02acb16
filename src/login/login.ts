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
import { chooserPage, codeFormPage, loginFormPage, signInReason, type SignInReason } from './pages.js';
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

  // "Sign in as someone else" (the 403 page) must not reuse the session the browser has.
  const switching = q.get('switch') === '1';
  const why = signInReason(q.get('why'));
  const loginHost = loginHostOf(ctx);
  if (loginHost && loginHost !== ctx.host) {
    // Sign in on the login host; bind this browser here so the handoff code only works in it.
    const b = browserBinding(ctx);
    const target = `${originOf(ctx, loginHost)}${loginHref(rd, { hb: b.hash, idp: q.get('idp'), switch: switching ? '1' : null, why: why ?? null })}`;
    return redirect(ctx, res, target, [b.cookie]);
  }
  const hbParam = q.get('hb');
  const hb = isBindingHash(hbParam) ? hbParam : null;

  const existing = switching ? null : reusableSession(d, ctx, allowed, app?.name, sessionDuration(ctx, app));
  if (existing) return completeSignIn(ctx, res, d.handoffs, existing, rd, hb, false);

  const chosen = allowed.find((p) => p.id === q.get('idp')) ?? (allowed.length === 1 ? allowed[0] : undefined);
  const extra = { switch: switching ? '1' : null, why: why ?? null };
  if (!chosen) {
    return sendHtml(ctx, res, 200, chooserPage(ctx, allowed, (p) => loginHref(rd, { hb, idp: p.id, ...extra }), app?.name ?? null, why));
  }
  const provider = d.registry.get(ctx.config, chosen.id);
  if (provider instanceof LocalProvider) {
    return showForm(d, ctx, res, 200, { provider: chosen, rd, hb, several: allowed.length > 1, ...(why ? { why } : {}), switching });
  }
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

interface FormState {
  provider: IdentityProviderConfig;
  rd: URL;
  hb: string | null;
  several: boolean;
  error?: string;
  email?: string;
  why?: SignInReason;
  switching?: boolean;
  /** Set for the one-time-code step: the password step's ticket. */
  ticket?: string;
}

function showForm(d: LoginDeps, ctx: RequestContext, res: ServerResponse, status: number, f: FormState): void {
  const csrf = d.csrf.issue(ctx);
  const p = {
    provider: f.provider,
    app: appFor(ctx, f.rd)?.name ?? null,
    rd: f.rd.href,
    hb: f.hb,
    csrf: csrf.token,
    ...(f.error ? { error: f.error } : {}),
    ...(f.why ? { why: f.why } : {}),
    ...(f.switching ? { switching: true } : {}),
    ...(f.several ? { chooserHref: loginHref(f.rd, { hb: f.hb }) } : {}),
  };
  const html =
    f.ticket !== undefined && f.email
      ? codeFormPage(ctx, { ...p, email: f.email, ticket: f.ticket, restartHref: loginHref(f.rd, { hb: f.hb, idp: f.provider.id }) })
      : loginFormPage(ctx, { ...p, ...(f.email ? { email: f.email } : {}) });
  sendHtml(ctx, res, status, html, csrf.cookie ? [csrf.cookie] : []);
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

/**
 * POST /.gatehouse/login: the local users form. Step one is email + password; for a user with a
 * TOTP secret a right password leads to step two, the code, with a ticket (bound to this browser's
 * CSRF cookie, 5 minutes) standing for the password. Lockouts and throttling count every wrong
 * password and every wrong code, as before; a client may still send all three at once.
 */
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
  const state: FormState = { provider: cfg, rd, hb, several: allowed.length > 1, email };
  if (!sameOrigin(ctx) || !d.csrf.verify(ctx, f.get('csrf'))) {
    return showForm(d, ctx, res, 403, { ...state, error: 'Your sign-in form expired or did not come from this site. Please try again.' });
  }
  const ticket = f.get('ticket');
  const codeStep = ticket !== null;
  if (codeStep && !d.csrf.verifyTicket(ctx, `${cfg.id}:${email}`, ticket)) {
    return showForm(d, ctx, res, 403, { ...state, error: 'Your sign-in took too long. Please enter your password again.' });
  }
  const code = f.get('totp') ?? '';
  const result = await provider.signIn(email, codeStep ? null : (f.get('password') ?? ''), code, ctx.clientIp);
  const codeState = (): FormState => ({ ...state, ticket: codeStep ? (ticket as string) : d.csrf.ticket(ctx, `${cfg.id}:${email}`) });
  if (!result.ok) {
    if (result.reason === 'code_required') return showForm(d, ctx, res, 200, codeState());
    if (result.reason === 'locked') {
      const minutes = Math.max(1, Math.ceil((result.lockout.until - Date.now()) / 60_000));
      d.logger.warn({ idp: cfg.id, kind: result.lockout.kind, key: result.lockout.key, until: new Date(result.lockout.until).toISOString() }, 'sign-in locked after repeated failures');
      res.setHeader('retry-after', String(minutes * 60));
      return showForm(d, ctx, res, 429, { ...state, error: `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` });
    }
    d.logger.info({ idp: cfg.id, clientIp: ctx.clientIp, requestId: ctx.requestId }, 'sign-in failed');
    if (codeStep) return showForm(d, ctx, res, 401, { ...codeState(), error: 'That code is not right (or was already used). Try the next one.' });
    return showForm(d, ctx, res, 401, { ...state, error: code ? 'Incorrect email, password or one-time code.' : 'Incorrect email or password.' });
  }
  const minted = await issueSession(d.session, ctx, result.claims, sessionDuration(ctx, app));
  d.logger.info({ idp: cfg.id, email: result.claims.email, sessionId: minted.jti, requestId: ctx.requestId }, 'signed in');
  await completeSignIn(ctx, res, d.handoffs, { token: minted.token, expiresAt: minted.expiresAt }, rd, hb, true);
}

// The sign-in module's pages in the shared shell (src/pages): the local users form and its
// one-time-code step, the provider chooser, sign-out and signed-out, and errors. Every value is
// escaped; the pages carry no inline script.
import type { IdentityProviderConfig } from '../config/types.js';
import type { RequestContext } from '../context.js';
import { renderErrorPage } from '../pages/error.js';
import { esc, page } from './html.js';

/** Why a browser was sent back to sign in: a closed set, carried as ?why= (never free text). */
export const SIGN_IN_REASONS = {
  expired: 'Your session expired. Please sign in again.',
  revoked: 'Your session was ended: you signed out, or an administrator signed you out. Please sign in again.',
} as const;
export type SignInReason = keyof typeof SIGN_IN_REASONS;

export function signInReason(value: string | null): SignInReason | undefined {
  return value !== null && Object.hasOwn(SIGN_IN_REASONS, value) ? (value as SignInReason) : undefined;
}

export interface FormPage {
  provider: IdentityProviderConfig;
  /** The app being signed in to (from rd), when Gatehouse serves it. */
  app: string | null;
  rd: string;
  hb: string | null;
  csrf: string;
  email?: string;
  error?: string;
  why?: SignInReason;
  /** "Sign in as someone else" from a 403 page. */
  switching?: boolean;
  /** Link back to the chooser when several providers are offered. */
  chooserHref?: string;
}

const hidden = (name: string, value: string | null) => (value === null ? '' : `<input type="hidden" name="${name}" value="${esc(value)}">`);

function intro(p: Pick<FormPage, 'app' | 'error' | 'why' | 'switching'>, action: string): string {
  const notice = p.error
    ? `<p class="notice error" role="alert">${esc(p.error)}</p>`
    : p.why
      ? `<p class="notice" role="status">${esc(SIGN_IN_REASONS[p.why])}</p>`
      : '';
  const who = p.switching ? 'Sign in as someone else' : action;
  return `${notice}<p class="lead">${esc(who)}${p.app ? ` to continue to <strong>${esc(p.app)}</strong>` : ''}.</p>`;
}

export function loginFormPage(ctx: RequestContext, p: FormPage): string {
  return page(
    ctx,
    'Sign in',
    `${intro(p, `Sign in with ${p.provider.name}`)}
<form method="post" action="/.gatehouse/login">
${hidden('csrf', p.csrf)}${hidden('idp', p.provider.id)}${hidden('rd', p.rd)}${hidden('hb', p.hb)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus value="${esc(p.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
${p.chooserHref ? `<p class="links"><a href="${esc(p.chooserHref)}">Other ways to sign in</a></p>` : ''}`,
    { app: p.app },
  );
}

/** The second step for users with a TOTP secret: the password was right, now the code. */
export function codeFormPage(ctx: RequestContext, p: FormPage & { email: string; ticket: string; restartHref: string }): string {
  return page(
    ctx,
    'One-time code',
    `${p.error ? `<p class="notice error" role="alert">${esc(p.error)}</p>` : ''}<p class="lead">Enter the 6-digit code from your authenticator app for <strong>${esc(p.email)}</strong>${p.app ? ` to continue to <strong>${esc(p.app)}</strong>` : ''}.</p>
<form method="post" action="/.gatehouse/login">
${hidden('csrf', p.csrf)}${hidden('idp', p.provider.id)}${hidden('rd', p.rd)}${hidden('hb', p.hb)}${hidden('email', p.email)}${hidden('ticket', p.ticket)}
<label for="totp">One-time code</label>
<input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required autofocus>
<button type="submit">Verify</button>
</form>
<p class="links"><a href="${esc(p.restartHref)}">Start again with another account</a></p>`,
    { app: p.app },
  );
}

export function chooserPage(ctx: RequestContext, providers: IdentityProviderConfig[], hrefFor: (p: IdentityProviderConfig) => string, app: string | null, why?: SignInReason): string {
  return page(
    ctx,
    'Sign in',
    `${intro({ app, ...(why ? { why } : {}) }, 'Choose how to sign in')}
${providers.map((p, i) => `<a class="button${i > 0 ? ' secondary' : ''}" href="${esc(hrefFor(p))}">${esc(p.name)}</a>`).join('\n')}`,
    { app },
  );
}

/** The Sign out button: a POST form (a GET of /.gatehouse/logout signs nobody out; see logout.ts). */
export function signOutForm(action = '/.gatehouse/logout'): string {
  return `<form method="post" action="${esc(action)}"><button type="submit">Sign out</button></form>`;
}

/** What a sign-out would end (or ended): the sessions of this sign-in, and the account's others. */
export interface SignOutScope {
  /** Sessions started by this browser's sign-in (the login host and its handoffs, re-sign-ins). */
  thisSignIn: { sessions: number; apps: string[] };
  /** The account's other active sessions: other browsers, or hosts signed in to separately. */
  others: { sessions: number; apps: string[] };
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
const appList = (apps: string[]) => (apps.length ? ` (${apps.map((a) => `<strong>${esc(a)}</strong>`).join(', ')})` : '');

export function signOutPage(ctx: RequestContext, action: string, who: string, scope: SignOutScope): string {
  const { thisSignIn: mine, others } = scope;
  const everywhere = others.sessions > 0
    ? `<p class="muted">This account is also signed in ${count(others.sessions, 'other time')}${appList(others.apps)}: other browsers, or sites you signed in to separately. They stay signed in unless you choose “Sign out everywhere”.</p>
<form method="post" action="${esc(`${action}${action.includes('?') ? '&' : '?'}scope=all`)}"><button type="submit" class="secondary">Sign out everywhere (${count(mine.sessions + others.sessions, 'session')})</button></form>`
    : '';
  return page(
    ctx,
    'Sign out',
    `<p class="lead">Signed in as <strong>${esc(who)}</strong>.</p>
<p>Signing out ends this sign-in on every site that uses it: ${count(mine.sessions, 'session')}${appList(mine.apps)}.</p>
${signOutForm(action)}
${everywhere}`,
  );
}

/** After a sign-out: exactly what ended, when known (an IdP's end-session redirect lands here without it). */
export function signedOutPage(ctx: RequestContext, againHref: string, ended?: { sessions: number; apps: string[]; everywhere: boolean }): string {
  const what = ended
    ? `<p>${ended.everywhere ? 'Every session of this account ended' : 'This sign-in ended'}: ${count(ended.sessions, 'session')}${appList(ended.apps)}.</p>`
    : '';
  return page(ctx, 'Signed out', `<p class="lead">You are signed out of Gatehouse.</p>${what}<a class="button" href="${esc(againHref)}">Sign in again</a>`);
}

export function errorPage(ctx: RequestContext, status: number, title: string, message: string, againHref?: string): string {
  return renderErrorPage({
    status,
    title,
    message,
    requestId: ctx.requestId,
    time: Date.now(),
    app: ctx.app?.name ?? null,
    hint: 'If this keeps happening, give the request id to your administrator.',
    ...(againHref ? { againHref } : {}),
  });
}

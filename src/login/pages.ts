// The login pages: the local users form, the provider chooser, signed-out and error pages. Every
// value is escaped; the pages carry no script.
import type { IdentityProviderConfig } from '../config/types.js';
import { esc, layout } from './html.js';

export interface FormPage {
  provider: IdentityProviderConfig;
  rd: string;
  hb: string | null;
  csrf: string;
  email?: string;
  error?: string;
  /** Link back to the chooser when several providers are offered. */
  chooserHref?: string;
}

export function loginFormPage(p: FormPage): string {
  const hidden = (name: string, value: string | null) => (value === null ? '' : `<input type="hidden" name="${name}" value="${esc(value)}">`);
  return layout(
    `Sign in — ${p.provider.name}`,
    `${p.error ? `<p class="error" role="alert">${esc(p.error)}</p>` : ''}
<form method="post" action="/.gatehouse/login">
${hidden('csrf', p.csrf)}${hidden('idp', p.provider.id)}${hidden('rd', p.rd)}${hidden('hb', p.hb)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus value="${esc(p.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="totp">One-time code <span class="muted">(if your account uses one)</span></label>
<input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8">
<button type="submit">Sign in</button>
</form>
${p.chooserHref ? `<p class="muted"><a href="${esc(p.chooserHref)}">Other ways to sign in</a></p>` : ''}`,
  );
}

export function chooserPage(providers: IdentityProviderConfig[], hrefFor: (p: IdentityProviderConfig) => string): string {
  return layout(
    'Sign in',
    `<p>Choose how to sign in:</p>
${providers.map((p) => `<a class="button" href="${esc(hrefFor(p))}">${esc(p.name)}</a>`).join('\n')}`,
  );
}

/** The Sign out button: a POST form (a GET of /.gatehouse/logout signs nobody out; see logout.ts). */
export function signOutForm(action = '/.gatehouse/logout'): string {
  return `<form method="post" action="${esc(action)}"><button type="submit">Sign out</button></form>`;
}

export function signOutPage(action: string, who: string): string {
  return layout('Sign out', `<p>Signed in as <strong>${esc(who)}</strong>.</p>${signOutForm(action)}`);
}

export function signedOutPage(againHref: string): string {
  return layout('Signed out', `<p>You are signed out of Gatehouse.</p><a class="button" href="${esc(againHref)}">Sign in again</a>`);
}

export function errorPage(title: string, message: string, requestId: string, againHref?: string): string {
  return layout(
    title,
    `<p class="error">${esc(message)}</p>
${againHref ? `<a class="button" href="${esc(againHref)}">Start again</a>` : ''}
<p class="muted">Request id: <code>${esc(requestId)}</code> — give it to your administrator if this keeps happening.</p>`,
  );
}

// Steps of the sign-in flows the tests repeat: walking the IdP's dev login and consent forms, and
// signing in through the local users form.
import { Browser, parseForm, type Page } from './browser.js';

/**
 * From the IdP authorization URL to the callback URL the IdP sends the browser to (not followed:
 * the caller decides what to do with it).
 */
export async function walkIdp(b: Browser, authUrl: URL, login: string): Promise<URL> {
  const isCallback = (u: URL) => u.pathname === '/.gatehouse/callback';
  let pages = await b.navigate(authUrl, { stopAt: isCallback });
  for (let step = 0; step < 4; step++) {
    const last = pages[pages.length - 1] as Page;
    if (last.location && isCallback(last.location)) return last.location;
    if (last.status !== 200) throw new Error(`IdP answered ${last.status} at ${last.url.href}: ${last.body.slice(0, 300)}`);
    const form = parseForm(last.body, last.url);
    const fields = form.fields.prompt === 'login' ? { ...form.fields, login, password: 'any' } : form.fields;
    pages = await b.navigate(form.action, { form: fields, stopAt: isCallback });
  }
  throw new Error('the IdP never redirected to the callback');
}

/** GET a protected URL and follow the gateway's redirects up to the IdP authorization URL. */
export async function startOidc(b: Browser, protectedUrl: string): Promise<URL> {
  const first = await b.request(protectedUrl);
  if (first.status !== 302 || !first.location) throw new Error(`expected a login redirect, got ${first.status}`);
  const login = await b.request(first.location);
  if (login.status !== 302 || !login.location) throw new Error(`expected a redirect to the IdP, got ${login.status}: ${login.body.slice(0, 200)}`);
  return login.location;
}

/** Opens the local sign-in form at `loginUrl` and submits it; returns the POST's response. */
export async function localSignIn(b: Browser, loginUrl: string | URL, fields: { email: string; password: string; totp?: string }): Promise<Page> {
  const pages = await b.navigate(loginUrl);
  const page = pages[pages.length - 1] as Page;
  if (page.status !== 200) throw new Error(`expected the login form, got ${page.status} at ${page.url.href}`);
  const form = parseForm(page.body, page.url);
  return b.request(form.action, { form: { ...form.fields, ...fields, totp: fields.totp ?? '' } });
}

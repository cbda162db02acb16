// /.gatehouse/logout — POST revokes the session (durable in the store, then refused by the in-memory
// set on the very next request, cache hit or not), clears the cookie, and ends the IdP session too
// when the provider has an end-session endpoint. GET only shows a Sign out button: the session
// cookie is SameSite=Lax, so a link or redirect from another site carries it on a GET, and a GET
// that signed people out would let any page do so. A cross-site POST carries no Lax cookie, and one
// with a foreign Origin is refused outright. /.gatehouse/signed-out is where the browser lands.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { clearSessionCookies } from './cookies.js';
import { sameOrigin } from './csrf.js';
import { fail, loginHref, query, type LoginDeps } from './deps.js';
import { redirect, sendHtml } from './html.js';
import { OidcProvider } from './oidc.js';
import { signOutPage, signedOutPage } from './pages.js';
import { originOf, safeRedirect } from './redirect.js';

export const SIGNED_OUT_PATH = '/.gatehouse/signed-out';

/** GET: the Sign out button (a form posting to the same URL, rd included), or "signed out" already. */
export function logoutPage(_d: LoginDeps, ctx: RequestContext, res: ServerResponse): void {
  if (ctx.identity?.kind !== 'session') return sendHtml(ctx, res, 200, signedOutPage(loginHref('/')));
  sendHtml(ctx, res, 200, signOutPage(`/.gatehouse/logout${ctx.query}`, ctx.identity.email ?? ctx.identity.subject));
}

/** POST: sign out. */
export async function logout(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  if (!sameOrigin(ctx)) return fail(ctx, res, 403, 'Sign-out refused', 'This sign-out request came from another site.');
  const id = ctx.identity;
  const cookies = clearSessionCookies(ctx);
  let provider;
  if (id?.kind === 'session') {
    await revoke(d, ctx, id.sessionId);
    d.logger.info({ email: id.email, sessionId: id.sessionId, requestId: ctx.requestId }, 'signed out');
    provider = d.registry.get(ctx.config, id.idp);
  }
  if (provider instanceof OidcProvider) {
    const end = provider.endSessionUrl(`${originOf(ctx)}${SIGNED_OUT_PATH}`);
    if (end) return redirect(ctx, res, end.href, cookies);
  }
  const rd = safeRedirect(query(ctx).get('rd'), ctx);
  if (rd) return redirect(ctx, res, rd.href, cookies);
  sendHtml(ctx, res, 200, signedOutPage(loginHref('/')), cookies);
}

export function signedOut(ctx: RequestContext, res: ServerResponse): void {
  sendHtml(ctx, res, 200, signedOutPage(loginHref('/')), clearSessionCookies(ctx));
}

/**
 * A session signed in a moment ago may still sit in the audit queue (flushed every ≤100 ms): flush
 * and retry once. Whatever the store says, this process refuses the session from now on.
 */
async function revoke(d: LoginDeps, ctx: RequestContext, sessionId: string): Promise<void> {
  try {
    let known = await d.revokeSession(sessionId, 'user', 'logout');
    if (!known) {
      await d.flushAudit();
      known = await d.revokeSession(sessionId, 'user', 'logout');
    }
    if (!known) d.revokeInMemory(sessionId);
  } catch (err) {
    d.logger.error({ err, sessionId, requestId: ctx.requestId }, 'could not record the logout revocation; refused by this process only');
    d.revokeInMemory(sessionId);
  }
}

// /.gatehouse/logout — revoke the session (durable in the store, then refused by the in-memory set
// on the very next request, cache hit or not), clear the cookie, and end the IdP session too when
// the provider has an end-session endpoint. /.gatehouse/signed-out is where the browser lands.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { clearSessionCookies } from './cookies.js';
import { loginHref, query, type LoginDeps } from './deps.js';
import { redirect, sendHtml } from './html.js';
import { OidcProvider } from './oidc.js';
import { signedOutPage } from './pages.js';
import { originOf, safeRedirect } from './redirect.js';

export const SIGNED_OUT_PATH = '/.gatehouse/signed-out';

export async function logout(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
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

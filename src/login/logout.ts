// /.gatehouse/logout — POST revokes the session (durable in the store, then refused by the in-memory
// set on the very next request, cache hit or not), clears the cookie, and ends the IdP session too
// when the provider has an end-session endpoint. GET only shows a Sign out button: the session
// cookie is SameSite=Lax, so a link or redirect from another site carries it on a GET, and a GET
// that signed people out would let any page do so. A cross-site POST carries no Lax cookie, and one
// with a foreign Origin is refused outright. /.gatehouse/signed-out is where the browser lands.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { loginIdOf } from '../auth/session-token.js';
import type { Identity } from '../policy/types.js';
import { clearSessionCookies } from './cookies.js';
import { sameOrigin } from './csrf.js';
import { fail, loginHref, query, type LoginDeps } from './deps.js';
import { redirect, sendHtml } from './html.js';
import { OidcProvider } from './oidc.js';
import { signOutPage, signedOutPage, type SignOutScope } from './pages.js';
import { originOf, safeRedirect } from './redirect.js';

export const SIGNED_OUT_PATH = '/.gatehouse/signed-out';
/** Sessions listed per sign-out page; more only make the counts "at least". */
const SCOPE_LIMIT = 500;

/** GET: the Sign out button (a form posting to the same URL, rd included) saying what it ends, or "signed out" already. */
export async function logoutPage(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const id = ctx.identity;
  if (id?.kind !== 'session') return sendHtml(ctx, res, 200, signedOutPage(ctx, loginHref('/')));
  const scope = await signOutScope(d, ctx, id);
  sendHtml(ctx, res, 200, signOutPage(ctx, `/.gatehouse/logout${ctx.query}`, id.email ?? id.subject, scope));
}

/** POST: sign out this sign-in (every session linked to it), or with ?scope=all every session of the account. */
export async function logout(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  if (!sameOrigin(ctx)) return fail(ctx, res, 403, 'Sign-out refused', 'This sign-out request came from another site.');
  const id = ctx.identity;
  const cookies = clearSessionCookies(ctx);
  let provider;
  let ended: Parameters<typeof signedOutPage>[2];
  if (id?.kind === 'session') {
    const scope = await signOutScope(d, ctx, id);
    const everywhere = query(ctx).get('scope') === 'all' && id.email !== undefined;
    const ids = await endSessions(d, ctx, id, everywhere);
    d.logger.info({ email: id.email, sessionId: id.sessionId, ended: ids.length, everywhere, requestId: ctx.requestId }, 'signed out');
    const apps = everywhere ? [...new Set([...scope.thisSignIn.apps, ...scope.others.apps])].sort() : scope.thisSignIn.apps;
    ended = { sessions: ids.length, apps, everywhere };
    provider = d.registry.get(ctx.config, id.idp);
  }
  if (provider instanceof OidcProvider) {
    const end = provider.endSessionUrl(`${originOf(ctx)}${SIGNED_OUT_PATH}`);
    if (end) return redirect(ctx, res, end.href, cookies);
  }
  const rd = safeRedirect(query(ctx).get('rd'), ctx);
  if (rd) return redirect(ctx, res, rd.href, cookies);
  sendHtml(ctx, res, 200, signedOutPage(ctx, loginHref('/'), ended), cookies);
}

export function signedOut(ctx: RequestContext, res: ServerResponse): void {
  sendHtml(ctx, res, 200, signedOutPage(ctx, loginHref('/')), clearSessionCookies(ctx));
}

/**
 * What signing out would end: the active sessions linked to this sign-in (this one included, even
 * when still queued for the store), and the account's other active sessions.
 */
async function signOutScope(d: LoginDeps, ctx: RequestContext, id: Identity): Promise<SignOutScope> {
  const appsOf = (list: Array<{ apps: string[] }>) => [...new Set(list.flatMap((s) => s.apps))].sort();
  const here = ctx.app ? [ctx.app.name] : [];
  try {
    await d.flushAudit();
    const loginId = loginIdOf(id);
    const mine = loginId ? (await d.store.listSessions({ loginId, active: true, limit: SCOPE_LIMIT })).items : [];
    if (!mine.some((s) => s.id === id.sessionId)) mine.push({ id: id.sessionId, apps: here } as (typeof mine)[number]);
    const ids = new Set(mine.map((s) => s.id));
    const all = id.email ? (await d.store.listSessions({ email: id.email, active: true, limit: SCOPE_LIMIT })).items : [];
    const others = all.filter((s) => !ids.has(s.id));
    return { thisSignIn: { sessions: mine.length, apps: appsOf(mine) }, others: { sessions: others.length, apps: appsOf(others) } };
  } catch (err) {
    d.logger.warn({ err, sessionId: id.sessionId, requestId: ctx.requestId }, 'could not read the sessions a sign-out ends');
    return { thisSignIn: { sessions: 1, apps: here }, others: { sessions: 0, apps: [] } };
  }
}

/**
 * Revokes every session linked to this sign-in, or (everywhere) every session of the account; this
 * one in any case, in memory at least. Returns the ids ended.
 */
async function endSessions(d: LoginDeps, ctx: RequestContext, id: Identity, everywhere: boolean): Promise<string[]> {
  const loginId = loginIdOf(id);
  let ids: string[] = [];
  try {
    if (everywhere) ids = await d.revokeUser(id.email as string, 'user', 'logout everywhere');
    else if (loginId) ids = await d.revokeLogin(loginId, 'user', 'logout');
  } catch (err) {
    d.logger.error({ err, loginId, everywhere, requestId: ctx.requestId }, 'could not revoke the linked sessions; revoking this one');
  }
  if (!ids.includes(id.sessionId)) {
    await revoke(d, ctx, id.sessionId);
    ids.push(id.sessionId);
  }
  return ids;
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

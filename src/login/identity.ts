// /.gatehouse/identity — the signed-in user's full identity, as policies see it, plus what was
// recorded at sign-in (client address, user agent, country). JSON for tools (Accept:
// application/json or ?format=json), a small page for people: something to send to an admin
// instead of a token or a HAR file.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import type { Identity } from '../policy/types.js';
import type { SessionRecord } from '../store/types.js';
import { loginHref, query, type LoginDeps } from './deps.js';
import { esc, layout, redirect, sendHtml, sendJson } from './html.js';
import { signOutForm } from './pages.js';
import { IDENTITY_PATH, originOf } from './redirect.js';

function wantsJson(ctx: RequestContext): boolean {
  const format = query(ctx).get('format');
  if (format === 'json') return true;
  if (format === 'html') return false;
  const accept = ctx.req.headers.accept ?? '';
  return !accept.includes('text/html');
}

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

export async function identity(d: LoginDeps, ctx: RequestContext, res: ServerResponse): Promise<void> {
  const id = ctx.identity;
  const json = wantsJson(ctx);
  if (!id) {
    if (!json && d.registry.allowed(ctx.config, ctx.app).length > 0) return redirect(ctx, res, loginHref(`${originOf(ctx)}${IDENTITY_PATH}`));
    const body = { error: 'unauthenticated', reason: ctx.credentialError ?? 'token_missing', request_id: ctx.requestId };
    return json ? sendJson(ctx, res, 401, body) : sendHtml(ctx, res, 401, layout('Not signed in', '<p>You are not signed in.</p>'));
  }
  const view = describeIdentity(ctx, id, await recorded(d, id.sessionId));
  if (json) return sendJson(ctx, res, 200, view);
  sendHtml(ctx, res, 200, identityPage(view));
}

/** The session as recorded at sign-in; a session signed in a moment ago may still be queued. */
async function recorded(d: LoginDeps, sessionId: string): Promise<SessionRecord | null> {
  try {
    const rec = await d.store.getSession(sessionId);
    if (rec) return rec;
    await d.flushAudit();
    return await d.store.getSession(sessionId);
  } catch (err) {
    d.logger.warn({ err, sessionId }, 'could not read the recorded session for the identity page');
    return null;
  }
}

export function describeIdentity(ctx: RequestContext, id: Identity, rec: SessionRecord | null) {
  return {
    email: id.email ?? null,
    name: id.name ?? null,
    subject: id.subject,
    groups: id.groups,
    idp: id.idp ?? null,
    amr: id.amr,
    kind: id.kind,
    issuer: id.issuer,
    session_id: id.sessionId,
    issued_at: iso(id.issuedAt * 1000),
    expires_at: iso(id.expiresAt * 1000),
    app: ctx.app?.name ?? null,
    at_sign_in: rec
      ? { time: iso(rec.firstSeenAt), client_ip: rec.network.loginIp, user_agent: rec.network.loginUserAgent, country: rec.network.loginCountry }
      : null,
    this_request: { client_ip: ctx.clientIp, user_agent: ctx.req.headers['user-agent'] ?? null, country: ctx.facts.country ?? null },
    claims: id.claims,
    request_id: ctx.requestId,
  };
}

type View = ReturnType<typeof describeIdentity>;

function identityPage(v: View): string {
  const row = (k: string, val: unknown) => `<tr><th>${esc(k)}</th><td>${esc(Array.isArray(val) ? val.join(', ') : (val ?? '—'))}</td></tr>`;
  const s = v.at_sign_in;
  return layout(
    'Your identity',
    `<p class="muted">This is what Gatehouse knows about you and what access policies see. If you are denied
access, send this page (or <a href="?format=json">its JSON</a>) to your administrator.</p>
<table>
${row('Email', v.email)}${row('Name', v.name)}${row('User id', v.subject)}${row('Groups', v.groups)}
${row('Signed in with', v.idp)}${row('Authentication methods', v.amr)}${row('Session id', v.session_id)}
${row('Issued', v.issued_at)}${row('Expires', v.expires_at)}
${row('Sign-in time', s?.time)}${row('Client address at sign-in', s?.client_ip)}${row('Browser at sign-in', s?.user_agent)}
${s?.country ? row('Country at sign-in', s.country) : ''}${row('Client address now', v.this_request.client_ip)}${row('Request id', v.request_id)}
</table>
<details><summary>All claims</summary><pre>${esc(JSON.stringify(v.claims, null, 2))}</pre></details>
${signOutForm()}`,
  );
}

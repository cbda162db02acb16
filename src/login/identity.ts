// /.gatehouse/identity — the signed-in user's full identity, as policies see it, plus what was
// recorded at sign-in (client address, user agent, country). JSON for tools (Accept:
// application/json or ?format=json), a small page for people: something to send to an admin
// instead of a token or a HAR file.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import type { Identity } from '../policy/types.js';
import type { SessionRecord } from '../store/types.js';
import { loginHref, query, type LoginDeps } from './deps.js';
import { facts, timeHtml } from '../pages/template.js';
import { esc, page, redirect, sendHtml, sendJson } from './html.js';
import { errorPage, signOutForm } from './pages.js';
import { IDENTITY_PATH, originOf } from './redirect.js';
import { DEFAULT_POSTURE_MAX_AGE_MS } from '../policy/device-selectors.js';
import { presentBoundDevice } from '../admin/present-device.js';
import { deviceRows } from './identity-device.js';

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
    return json ? sendJson(ctx, res, 401, body) : sendHtml(ctx, res, 401, errorPage(ctx, 401, 'Not signed in', 'You are not signed in.'));
  }
  const rec = await recorded(d, id.sessionId);
  const view = describeIdentity(ctx, id, rec);
  if (json) return sendJson(ctx, res, 200, view);
  sendHtml(ctx, res, 200, identityPage(ctx, view, id, rec));
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
    device: presentBoundDevice(id.device, ctx.config.posture?.maxAgeMs ?? DEFAULT_POSTURE_MAX_AGE_MS),
    // What the User-Agent header claims: anyone can send any, so policies treat it as a hint.
    user_agent_facts: { source: 'user_agent', client_claimed: true, facts: ctx.facts.agent ?? {} },
    claims: id.claims,
    request_id: ctx.requestId,
  };
}

type View = ReturnType<typeof describeIdentity>;

function identityPage(ctx: RequestContext, v: View, id: Identity, rec: SessionRecord | null): string {
  const text = (val: unknown) => (val === null || val === undefined || (Array.isArray(val) && val.length === 0) ? '—' : esc(Array.isArray(val) ? val.join(', ') : val));
  const rows: Array<[string, string]> = [
    ['Email', text(v.email)],
    ['Name', text(v.name)],
    ['User id', `<code>${text(v.subject)}</code>`],
    ['Groups', text(v.groups)],
    ['Signed in with', text(v.idp)],
    ['Authentication methods', text(v.amr)],
    ['Session id', `<code>${text(v.session_id)}</code>`],
    ['Issued', timeHtml(id.issuedAt * 1000)],
    ['Expires', timeHtml(id.expiresAt * 1000)],
    ['Sign-in time', timeHtml(rec?.firstSeenAt)],
    ['Client address at sign-in', text(v.at_sign_in?.client_ip)],
    ['Browser at sign-in', text(v.at_sign_in?.user_agent)],
  ];
  if (v.at_sign_in?.country) rows.push(['Country at sign-in', text(v.at_sign_in.country)]);
  rows.push(['Client address now', text(v.this_request.client_ip)]);
  rows.push(...deviceRows(v.device, v.user_agent_facts.facts));
  return page(
    ctx,
    'Your identity',
    `<p class="lead">This is what Gatehouse knows about you and what access policies see. If you are denied
access, send this page (or <a href="?format=json">its JSON</a>) to your administrator.</p>
${facts(rows)}
<details><summary>All claims</summary><pre>${esc(JSON.stringify(v.claims, null, 2))}</pre></details>
${signOutForm()}`,
    { wide: true },
  );
}

// Session: the full identity policies evaluated (claims as a tree, redacted claims marked), network
// and device, per-app activity, recent decisions, identity history, and Revoke for operators.
import { actionForm, appLink, badge, code, consolePage, decisionHref, esc, facts, link, list, notice, sessionHref, table, text, userLink, when } from '../html.js';
import { ConsoleError, type ConsoleRequest } from '../types.js';
import { decisionRows, DECISION_HEADERS, historyRows, HISTORY_HEADERS } from './shared.js';

type Row = Record<string, unknown>;

export async function sessionView(cr: ConsoleRequest, id: string): Promise<string> {
  const [s, config] = await Promise.all([cr.ask('GET', `/admin/sessions/${encodeURIComponent(id)}`), cr.ask('GET', '/admin/config')]);
  const identity = (s.identity ?? {}) as Row;
  const network = (s.network ?? {}) as Row;
  const device = s.device as Row | null;
  const revocation = s.revocation as Row | null;
  const redacted = Array.isArray(config.redact_claims) ? (config.redact_claims as string[]) : [];
  const summary = facts([
    ['Status', badge(s.status)],
    ['User', userLink(s.email, s.user_id)],
    ['Name', text(s.name)],
    ['Kind', text(s.kind)],
    ['Identity provider', text(s.idp)],
    ['Issuer', code(s.issuer)],
    ['Groups', list(s.groups)],
    ['Auth methods', list(s.auth_methods)],
    ['Issued', when(s.issued_at)],
    ['Expires', when(s.expires_at)],
    ['First seen', when(s.first_seen_at)],
    ['Last seen', when(s.last_seen_at)],
    ['Identity version', text(s.identity_version)],
    ...(revocation ? ([['Revoked', `${when(revocation.revoked_at)} by ${esc(revocation.revoked_by)}: ${esc(revocation.reason)}`]] as Array<[string, string]>) : []),
  ]);
  const context = facts([
    ['Sign-in address', `${text(network.login_ip)}${network.login_country ? ` (${esc(network.login_country)})` : ''}`],
    ['Sign-in browser', text(network.login_user_agent)],
    ['Last address', text(network.last_ip)],
    ['Last browser', text(network.last_user_agent)],
    ['Client certificate', device ? `${code(device.cert_subject)} ${code(device.cert_fingerprint)}` : 'none'],
  ]);
  const activity = table(
    'Activity per app',
    ['App', 'Requests', 'First seen', 'Last seen', 'Last path'],
    ((s.apps as Row[]) ?? []).map((a) => [appLink(a.app), esc(a.request_count), when(a.first_seen_at), when(a.last_seen_at), code(a.last_path)]),
    { empty: 'No app reached yet.' },
  );
  const revoke =
    s.status === 'active'
      ? actionForm(cr.viewer, `${sessionHref(id)}/revoke`, 'Revoke this session')
      : '';
  const body = `${notice(cr.url, { revoked: 'The session is revoked: its next request is refused, on every instance.' })}
${summary}
${revoke}
<h2>Identity policies evaluated</h2>
${claimTree((identity.claims ?? {}) as Row, redacted)}
<h2>Network and device</h2>
${context}
<h2>Apps</h2>
${activity}
<h2>Recent decisions</h2>
${table('Recent decisions', DECISION_HEADERS, decisionRows((s.decisions as Row[]) ?? []), { empty: 'No refused request recorded for this session.' })}
<h2>Identity history</h2>
${table('Identity history', HISTORY_HEADERS, historyRows((s.identity_history as Row[]) ?? []), { empty: 'Unchanged since sign-in.' })}
<p class="links">${link(decisionHref(''), 'Look up a request id')} · ${link(`/console/policy-test?session_id=${encodeURIComponent(id)}`, 'Test this session against an app')}</p>`;
  return consolePage(cr, 'sessions', `Session ${id.length > 20 ? `${id.slice(0, 18)}…` : id}`, body);
}

/** Claims as a nested list; claims the audit does not keep (audit.redact_claims) are marked. */
export function claimTree(claims: Row, redacted: string[]): string {
  const item = (k: string, v: unknown): string => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return `<li><code>${esc(k)}</code><ul>${Object.entries(v as Row).map(([kk, vv]) => item(kk, vv)).join('')}</ul></li>`;
    if (v === '[redacted]') return `<li><code>${esc(k)}</code>: <span class="badge warn">redacted</span> (audit.redact_claims: not recorded)</li>`;
    const shown = Array.isArray(v) ? v.map((x) => esc(typeof x === 'object' ? JSON.stringify(x) : x)).join(', ') || '[]' : esc(JSON.stringify(v));
    return `<li><code>${esc(k)}</code>: ${shown}</li>`;
  };
  const marks = redacted.filter((k) => !(k in claims)).map((k) => `<li><code>${esc(k)}</code>: <span class="badge warn">redacted</span> (audit.redact_claims: not recorded)</li>`).join('');
  const entries = Object.entries(claims);
  if (!entries.length && !marks) return '<p class="muted">No claims recorded.</p>';
  return `<ul class="tree">${entries.map(([k, v]) => item(k, v)).join('')}${marks}</ul>`;
}

export function requireId(id: string | undefined, what: string): string {
  if (!id) throw new ConsoleError(400, `${what} is missing from the address`);
  return id;
}

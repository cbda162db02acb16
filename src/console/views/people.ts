// Users: everyone with sessions, and one user: latest identity, identity history as a timeline
// with diffs, all sessions, and "log out everywhere" for operators.
import { actionForm, badge, BASE, consolePage, esc, facts, list, notice, sessionLink, table, text, userHref, userLink, when, appLink } from '../html.js';
import type { ConsoleRequest } from '../types.js';
import { claimTree } from './session.js';
import { historyRows, HISTORY_HEADERS } from './shared.js';

type Row = Record<string, unknown>;

export async function usersView(cr: ConsoleRequest): Promise<string> {
  const { users } = (await cr.ask('GET', '/admin/users')) as { users: Row[] };
  const active = users.reduce((n, u) => n + Number(u.active_sessions ?? 0), 0);
  const body = `<p>${users.length} user${users.length === 1 ? '' : 's'} with recorded sessions; ${active} active session${active === 1 ? '' : 's'} among them.</p>
${table('Users', ['User', 'Name', 'Active sessions', 'Last seen'], users.map((u) => [userLink(u.email), text(u.name), esc(u.active_sessions), when(u.last_seen_at)]), { empty: 'No user has signed in yet.' })}`;
  return consolePage(cr, 'users', 'Users', body);
}

export async function userView(cr: ConsoleRequest, email: string): Promise<string> {
  const [u, config] = await Promise.all([cr.ask('GET', `/admin/users/${encodeURIComponent(email)}`), cr.ask('GET', '/admin/config')]);
  const identity = (u.identity ?? {}) as Row;
  const redacted = Array.isArray(config.redact_claims) ? (config.redact_claims as string[]) : [];
  const sessions = (u.sessions as Row[]) ?? [];
  const body = `${notice(cr.url, { logged_out: 'Every session of this user is revoked: their next request is refused, on every instance.' })}
${facts([
  ['Email', esc(u.email)],
  ['Name', text(u.name)],
  ['Active sessions', esc(u.active_sessions)],
  ['Last seen', when(u.last_seen_at)],
  ['Groups (latest)', list(identity.groups)],
  ['Auth methods (latest)', list(identity.amr)],
  ['Identity provider', text(identity.idp)],
  ['Latest session', sessionLink(identity.session_id)],
])}
${Number(u.active_sessions) > 0 ? actionForm(cr.viewer, `${userHref(String(u.email))}/logout`, 'Log out everywhere', { id: 'reason-user' }) : ''}
<h2>Identity history</h2>
${table('Identity history', HISTORY_HEADERS, historyRows((u.history as Row[]) ?? []), { empty: 'No change recorded: every sign-in gave the same identity.' })}
<h2>Sessions</h2>
${table(
  'Sessions of this user',
  ['Session', 'Status', 'IdP', 'Groups', 'Issued', 'Last seen', 'Apps'],
  sessions.map((s) => [sessionLink(s.id), badge(s.status), text(s.idp), list(s.groups), when(s.issued_at), when(s.last_seen_at), Array.isArray(s.apps) && s.apps.length ? s.apps.map(appLink).join(', ') : '—']),
)}
<h2>Latest identity's claims</h2>
${claimTree((identity.claims ?? {}) as Row, redacted)}
<p class="links"><a href="${BASE}/decisions?email=${encodeURIComponent(String(u.email))}">Refused requests of this user</a> · <a href="${BASE}/policy-test?email=${encodeURIComponent(String(u.email))}">Test this user against an app</a></p>`;
  return consolePage(cr, 'users', String(u.email ?? email), body);
}


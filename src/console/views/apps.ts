// Apps: every configured app, and one app: who uses it now, recent denials, its policies written
// out readably, and "everyone must sign in again" for operators.
import { actionForm, appHref, appLink, BASE, code, consolePage, esc, list, notice, sessionLink, table, userLink, when } from '../html.js';
import type { ConsoleRequest } from '../types.js';
import { decisionRows, DECISION_HEADERS } from './shared.js';
import { policiesHtml } from './policy-text.js';

type Row = Record<string, unknown>;

export async function appsView(cr: ConsoleRequest): Promise<string> {
  const config = await cr.ask('GET', '/admin/config');
  const apps = (config.apps as Row[]) ?? [];
  const body = table(
    'Apps',
    ['App', 'Hosts', 'Paths', 'Mode', 'Upstream', 'Policies'],
    apps.map((a) => [appLink(a.name), list(a.hosts), list(a.paths), list(a.mode), code(a.upstream), list(((a.policies as Row[]) ?? []).map((p) => `${String(p.action)} ${String(p.name)}`))]),
    { empty: 'No app is configured.' },
  );
  return consolePage(cr, 'apps', 'Apps', body);
}

export async function appView(cr: ConsoleRequest, name: string): Promise<string> {
  const [users, denials, config] = await Promise.all([
    cr.ask('GET', `/admin/apps/${encodeURIComponent(name)}/sessions`),
    cr.ask('GET', `/admin/decisions?app=${encodeURIComponent(name)}&outcome=deny&limit=20`),
    cr.ask('GET', '/admin/config'),
  ]);
  const app = ((config.apps as Row[]) ?? []).find((a) => a.name === name) ?? {};
  const sessions = (users.sessions as Row[]) ?? [];
  const body = `${notice(cr.url, { revoked: 'Every session issued until now must sign in again to use this app.' })}
<p>${list(app.hosts)} · file ${code(app.file)}${users.revoked_before ? ` · sessions issued before ${when(users.revoked_before)} must sign in again` : ''}</p>
${actionForm(cr.viewer, `${appHref(name)}/revoke`, 'Everyone must sign in again', { id: 'reason-app' })}
<h2>Policies</h2>
${policiesHtml((app.policies as Row[]) ?? [])}
<h2>Who is using it now</h2>
${table(
  'Active sessions on this app',
  ['User', 'Session', 'Groups', 'Requests', 'Last seen', 'Last path'],
  sessions.map((s) => {
    const a = (s.activity ?? {}) as Row;
    return [userLink(s.email, s.user_id), sessionLink(s.id), list(s.groups), esc(a.request_count), when(a.last_seen_at), code(a.last_path)];
  }),
  { empty: 'No active session has used this app.' },
)}
<h2>Recent denials</h2>
${table('Recent denials', DECISION_HEADERS, decisionRows((denials.decisions as Row[]) ?? []), { empty: 'No denial recorded.' })}
<p class="links"><a href="${BASE}/policy-test?app=${encodeURIComponent(name)}">Test a user against this app, or a changed app file</a></p>`;
  return consolePage(cr, 'apps', `App ${name}`, body);
}

// Actions: the admin actions audit — every revocation, device approval and lockout lift made through
// the console or the admin API (who, what, when, why, through which door, the request id), newest
// first, filterable by actor, kind and target.
import { appLink, BASE, code, consolePage, esc, filterForm, sessionLink, table, text, userLink, when } from '../html.js';
import type { ConsoleRequest } from '../types.js';

type Row = Record<string, unknown>;

const KINDS: Array<[string, string]> = [
  ['', 'Every action'],
  ['session.revoke', 'Session revoked'],
  ['user.logout', 'User logged out everywhere'],
  ['app.revoke', 'Everyone must sign in again (app)'],
  ['device.approve', 'Device approved'],
  ['device.revoke', 'Device revoked'],
  ['lockout.lift', 'Sign-in lockout lifted'],
];
const LABELS = new Map(KINDS);

/** The target as a link to its page where the console has one. */
function target(a: Row): string {
  switch (a.action) {
    case 'session.revoke':
      return sessionLink(a.target);
    case 'user.logout':
      return userLink(a.target);
    case 'app.revoke':
      return appLink(a.target);
    default:
      return code(a.target);
  }
}

function detail(d: unknown): string {
  if (!d || typeof d !== 'object') return '—';
  return Object.entries(d as Row)
    .map(([k, v]) => `${esc(k.replace(/_/g, ' '))}: ${esc(typeof v === 'object' ? JSON.stringify(v) : v)}`)
    .join('; ');
}

export async function actionsView(cr: ConsoleRequest): Promise<string> {
  const p = cr.url.searchParams;
  const get = (k: string) => (p.get(k) ?? '').trim();
  const q = new URLSearchParams({ limit: '50' });
  for (const k of ['actor', 'action', 'target', 'cursor']) if (get(k)) q.set(k, get(k));
  const page = await cr.ask('GET', `/admin/actions?${q}`);
  const rows = ((page.actions as Row[]) ?? []).map((a) => [
    when(a.time),
    text(a.actor),
    esc(LABELS.get(String(a.action)) ?? a.action),
    target(a),
    text(a.reason),
    esc(a.via === 'console' ? 'console' : 'admin API'),
    code(a.request_id),
    detail(a.detail),
  ]);
  const next = new URLSearchParams(p);
  if (typeof page.next_cursor === 'string') next.set('cursor', page.next_cursor);
  const first = new URLSearchParams(p);
  first.delete('cursor');
  const body = `<p class="lead">Every revocation, device approval and lockout lift made through the console or the admin API, newest first.</p>
${filterForm(`${BASE}/actions`, [
  { name: 'actor', label: 'Actor (admin:name or console:email)', value: get('actor') },
  { name: 'action', label: 'Action', value: get('action'), options: KINDS },
  { name: 'target', label: 'Target (session id, email, app …)', value: get('target') },
])}
${table('Admin actions', ['Time', 'Actor', 'Action', 'Target', 'Reason', 'Through', 'Request id', 'Detail'], rows, { id: 'actions', empty: 'No admin action matches.' })}
<div class="pager">${get('cursor') ? `<a href="${BASE}/actions?${esc(first.toString())}">Newest</a>` : ''}${typeof page.next_cursor === 'string' ? `<a href="${BASE}/actions?${esc(next.toString())}">Older</a>` : ''}</div>`;
  return consolePage(cr, 'actions', 'Admin actions', body);
}

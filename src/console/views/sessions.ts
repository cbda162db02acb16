// Sessions: the live list (active by default), newest activity first, with filters that are part of
// the URL. Every filter (user, app, IdP, group, country, device, since, status) goes to the admin
// API, which the store answers exactly: pages and the total count match the same filters.
import { badge, BASE, code, esc, filterForm, list, sessionHref, sessionLink, table, text, userLink, when, appLink, consolePage } from '../html.js';
import { ConsoleError, type ConsoleRequest } from '../types.js';

const PAGE = 50;

type Row = Record<string, unknown>;

const STATUS: Array<[string, string]> = [
  ['active', 'Active'],
  ['all', 'All'],
  ['ended', 'Revoked or expired'],
];

export async function sessionsView(cr: ConsoleRequest): Promise<string | { redirect: string }> {
  const p = cr.url.searchParams;
  const get = (k: string) => (p.get(k) ?? '').trim();
  const search = get('q');
  if (search && !search.includes('@')) {
    // A session id: straight to it when it exists; otherwise a user id.
    const found = await cr.ask('GET', `/admin/sessions/${encodeURIComponent(search)}`).catch((err: unknown) => {
      if (err instanceof ConsoleError && err.status === 404) return null;
      throw err;
    });
    if (found) return { redirect: sessionHref(search) };
  }
  const status = get('status') || 'active';
  if (!STATUS.some(([v]) => v === status)) throw new ConsoleError(400, 'status must be active, all or ended');
  const api = new URLSearchParams({ limit: String(PAGE), count: 'true' });
  const user = get('user') || search;
  if (user) api.set(user.includes('@') ? 'email' : 'user', user);
  for (const k of ['app', 'idp', 'group', 'country', 'device', 'since']) if (get(k)) api.set(k, get(k));
  if (status !== 'all') api.set('active', status === 'active' ? 'true' : 'false');
  if (get('cursor')) api.set('cursor', get('cursor'));
  const page = await cr.ask('GET', `/admin/sessions?${api}`);
  const rows = (page.sessions as Row[]) ?? [];
  const cursor = typeof page.next_cursor === 'string' ? page.next_cursor : null;
  const total = Number(page.total ?? rows.length);
  const capped = page.total_capped === true;

  const form = filterForm(`${BASE}/sessions`, [
    { name: 'q', label: 'Search: email or session id', value: search },
    { name: 'status', label: 'Status', value: status, options: STATUS },
    { name: 'user', label: 'User (email or user id)', value: get('user') },
    { name: 'app', label: 'App', value: get('app') },
    { name: 'idp', label: 'Identity provider', value: get('idp') },
    { name: 'group', label: 'Group', value: get('group') },
    { name: 'country', label: 'Country (sign-in)', value: get('country') },
    { name: 'device', label: 'Device id (or none)', value: get('device') },
    { name: 'since', label: 'Active since (1h, 7d, ISO time)', value: get('since') },
  ]);
  const next = new URLSearchParams(p);
  if (cursor) next.set('cursor', cursor);
  const pager = `<div class="pager">${get('cursor') ? `<a href="${BASE}/sessions?${esc(withoutCursor(p))}">First page</a>` : ''}${cursor ? `<a href="${BASE}/sessions?${esc(next.toString())}">Next page</a>` : ''}</div>`;
  const counts = `<p id="session-count" data-live><strong>${capped ? `more than ${total.toLocaleString('en')}` : total}</strong> session${total === 1 ? '' : 's'} match${total === 1 && !capped ? 'es' : ''}; ${rows.length} on this page, most recent activity first.</p>`;
  const body = `${form}
<p class="muted" id="live-status" aria-live="polite"></p>
${counts}
${table('Sessions', ['User', 'Session', 'Status', 'IdP', 'Groups', 'Auth methods', 'Device', 'Client IP', 'First seen', 'Last seen', 'Apps'], rows.map(row), { id: 'sessions', live: true, empty: 'No session matches these filters.' })}
${pager}`;
  return consolePage(cr, 'sessions', 'Sessions', body);
}

function row(s: Row): string[] {
  const device = s.device as { cert_subject?: string } | null | undefined;
  const ip = s.client_ip ? `${esc(s.client_ip)}${s.country ? ` (${esc(s.country)})` : ''}` : '—';
  return [
    userLink(s.email, s.user_id),
    sessionLink(s.id),
    badge(s.status),
    text(s.idp ?? s.issuer),
    list(s.groups),
    list(s.auth_methods),
    device?.cert_subject ? code(device.cert_subject) : '—',
    ip,
    when(s.first_seen_at),
    when(s.last_seen_at),
    Array.isArray(s.apps) && s.apps.length ? s.apps.map(appLink).join(', ') : '—',
  ];
}

function withoutCursor(p: URLSearchParams): string {
  const q = new URLSearchParams(p);
  q.delete('cursor');
  return q.toString();
}

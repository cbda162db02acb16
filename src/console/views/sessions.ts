// Sessions: the live list (active by default), newest activity first, with filters that are part of
// the URL. user/app/status go to the admin API; IdP, group and "since" are applied to the pages it
// returns (scanning on until a page is full), so every filter combines with paging.
import { badge, BASE, code, esc, filterForm, list, sessionHref, sessionLink, table, text, userLink, when, appLink, consolePage } from '../html.js';
import { ConsoleError, type ConsoleRequest } from '../types.js';

const PAGE = 50;
/** Sessions read at most for one filtered page (IdP, group, since). */
const MAX_SCANNED = 5_000;

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
  const api = new URLSearchParams();
  const user = get('user') || search;
  if (user) api.set(user.includes('@') ? 'email' : 'user', user);
  if (get('app')) api.set('app', get('app'));
  if (status !== 'all') api.set('active', status === 'active' ? 'true' : 'false');
  const idp = get('idp');
  const group = get('group');
  const since = get('since');
  const sinceMs = since ? sinceTime(since) : null;
  const filtered = Boolean(idp || group || sinceMs !== null);
  const keep = (s: Row) =>
    (!idp || s.idp === idp) && (!group || (Array.isArray(s.groups) && s.groups.includes(group))) && (sinceMs === null || Date.parse(String(s.last_seen_at)) >= sinceMs);

  let cursor = get('cursor') || null;
  const rows: Row[] = [];
  let scanned = 0;
  do {
    const q = new URLSearchParams(api);
    q.set('limit', String(filtered ? 100 : PAGE));
    if (cursor) q.set('cursor', cursor);
    const page = await cr.ask('GET', `/admin/sessions?${q}`);
    const items = (page.sessions as Row[]) ?? [];
    scanned += items.length;
    rows.push(...items.filter(keep));
    cursor = typeof page.next_cursor === 'string' ? page.next_cursor : null;
  } while (filtered && cursor && rows.length < PAGE && scanned < MAX_SCANNED);

  const form = filterForm(`${BASE}/sessions`, [
    { name: 'q', label: 'Search: email or session id', value: search },
    { name: 'status', label: 'Status', value: status, options: STATUS },
    { name: 'user', label: 'User (email or user id)', value: get('user') },
    { name: 'app', label: 'App', value: get('app') },
    { name: 'idp', label: 'Identity provider', value: idp },
    { name: 'group', label: 'Group', value: group },
    { name: 'since', label: 'Active since (1h, 7d, ISO time)', value: since },
  ]);
  const next = new URLSearchParams(p);
  if (cursor) next.set('cursor', cursor);
  const pager = `<div class="pager">${get('cursor') ? `<a href="${BASE}/sessions?${esc(withoutCursor(p))}">First page</a>` : ''}${cursor ? `<a href="${BASE}/sessions?${esc(next.toString())}">Next page</a>` : ''}</div>`;
  const counts = `<p id="session-count" data-live>${rows.length} session${rows.length === 1 ? '' : 's'} on this page${filtered ? ` (of ${scanned} read)` : ''}, most recent activity first.</p>`;
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

/** "1h", "7d" or an ISO time → epoch ms; 400 naming the field otherwise. */
export function sinceTime(v: string, now = Date.now()): number {
  const m = /^(\d+)(m|h|d)$/.exec(v);
  if (m) return now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new ConsoleError(400, 'since must be a duration like 1h or 7d, or an ISO-8601 time');
  return t;
}

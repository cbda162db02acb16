// The console's building blocks on top of the shared page shell (src/pages): the navigation, tables
// that scroll sideways on a phone instead of the page, forms that carry the CSRF token, badges,
// links to the other views. Every value is escaped here; views pass text, never HTML from data.
import { esc, renderPage, timeHtml } from '../pages/template.js';
import { CONSOLE_SCRIPT_PATH } from './script.js';
import type { ConsoleRequest, Viewer } from './types.js';

export { esc, facts, timeHtml } from '../pages/template.js';

/** The console's root path, on the admin listener and on console_host alike. */
export const BASE = '/console';

const SECTIONS = [
  ['sessions', 'Sessions', `${BASE}/sessions`],
  ['users', 'Users', `${BASE}/users`],
  ['apps', 'Apps', `${BASE}/apps`],
  ['decisions', 'Why denied?', `${BASE}/decisions`],
  ['policy', 'Policy test', `${BASE}/policy-test`],
  ['config', 'Config', `${BASE}/config`],
  ['actions', 'Actions', `${BASE}/actions`],
] as const;

export type Section = (typeof SECTIONS)[number][0];

function nav(viewer: Viewer, current: Section | null): string {
  const links = SECTIONS.map(([id, label, href]) => `<li><a href="${href}"${id === current ? ' aria-current="page"' : ''}>${label}</a></li>`).join('');
  const out = viewer.signOut
    ? `<form method="post" action="${esc(viewer.signOut)}">${csrfField(viewer)}<button type="submit" class="secondary">Sign out</button></form>`
    : `<a href="/.gatehouse/logout">Sign out</a>`;
  return `<nav class="console-nav" aria-label="Console"><ul>${links}<li class="who"><span>${esc(viewer.label)} · <span class="badge">${viewer.role}</span></span>${out}</li></ul></nav>\n`;
}

export function consolePage(cr: ConsoleRequest, section: Section | null, title: string, body: string): string {
  return renderPage({ title, body, requestId: cr.requestId, time: Date.now(), wide: 'console', nav: nav(cr.viewer, section), scripts: [CONSOLE_SCRIPT_PATH] });
}

export function csrfField(viewer: Viewer): string {
  return `<input type="hidden" name="csrf" value="${esc(viewer.csrf)}">`;
}

/** A table in a region that scrolls sideways on its own (keyboard-focusable, named). */
export function table(label: string, headers: string[], rows: string[][], opts: { id?: string; live?: boolean; empty?: string } = {}): string {
  if (rows.length === 0) return `<p class="muted"${opts.id ? ` id="${opts.id}"` : ''}${opts.live ? ' data-live' : ''}>${esc(opts.empty ?? 'Nothing to show.')}</p>`;
  const head = headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll" role="region" aria-label="${esc(label)}" tabindex="0"${opts.id ? ` id="${opts.id}"` : ''}${opts.live ? ' data-live' : ''}><table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div>`;
}

export const code = (v: unknown): string => (v === null || v === undefined || v === '' ? '—' : `<code>${esc(v)}</code>`);
export const text = (v: unknown): string => (v === null || v === undefined || v === '' ? '—' : esc(v));
export const list = (v: unknown): string => (Array.isArray(v) && v.length ? v.map((x) => esc(x)).join(', ') : '—');
export const when = (v: unknown): string => (typeof v === 'string' ? timeHtml(Date.parse(v)) : '—');

export const userHref = (email: string): string => `${BASE}/users/${encodeURIComponent(email)}`;
export const sessionHref = (id: string): string => `${BASE}/sessions/${encodeURIComponent(id)}`;
export const appHref = (name: string): string => `${BASE}/apps/${encodeURIComponent(name)}`;
export const decisionHref = (requestId: string): string => `${BASE}/decisions?request_id=${encodeURIComponent(requestId)}`;

export const link = (href: string, label: unknown): string => `<a href="${esc(href)}">${esc(label)}</a>`;
export const userLink = (email: unknown, fallback: unknown = '—'): string => (typeof email === 'string' && email ? link(userHref(email), email) : text(fallback));
export const sessionLink = (id: unknown): string => (typeof id === 'string' && id ? link(sessionHref(id), id.length > 14 ? `${id.slice(0, 12)}…` : id) : '—');
export const appLink = (name: unknown): string => (typeof name === 'string' && name ? link(appHref(name), name) : '—');

const BADGES: Record<string, string> = { active: 'ok', allow: 'ok', bypass: 'ok', revoked: 'bad', deny: 'bad', unauthenticated: 'warn', expired: 'warn', error: 'warn', not_found: 'warn' };
export const badge = (v: unknown): string => `<span class="badge ${BADGES[String(v)] ?? ''}">${esc(v)}</span>`;

/** A notice after an action (?done=…), from a fixed list: the URL never carries page text. */
export function notice(url: URL, messages: Record<string, string>): string {
  const done = url.searchParams.get('done');
  const msg = done ? messages[done] : undefined;
  return msg ? `<p class="notice" role="status">${esc(msg)}</p>` : '';
}

/** A GET form of filters: every view is a URL that can be shared. */
export function filterForm(action: string, fields: Array<{ name: string; label: string; value: string | null; options?: Array<[string, string]> }>, button = 'Apply'): string {
  const inputs = fields
    .map((f) => {
      const id = `f-${f.name}`;
      const control = f.options
        ? `<select id="${id}" name="${f.name}">${f.options.map(([v, l]) => `<option value="${esc(v)}"${v === (f.value ?? '') ? ' selected' : ''}>${esc(l)}</option>`).join('')}</select>`
        : `<input id="${id}" name="${f.name}" value="${esc(f.value ?? '')}">`;
      return `<div><label for="${id}">${esc(f.label)}</label>${control}</div>`;
    })
    .join('');
  return `<form class="filters" method="get" action="${esc(action)}">${inputs}<div><button type="submit">${esc(button)}</button></div></form>`;
}

/** An operator's action: a POST form with a reason field (absent for viewers). */
export function actionForm(viewer: Viewer, action: string, button: string, opts: { reason?: boolean; id?: string } = {}): string {
  if (viewer.role !== 'operator') return '';
  const id = opts.id ?? 'reason';
  const reason = opts.reason === false ? '' : `<label for="${id}">Reason (recorded with the action)</label><input id="${id}" name="reason" maxlength="500" required>`;
  return `<form method="post" action="${esc(action)}">${csrfField(viewer)}${reason}<button type="submit" class="danger">${esc(button)}</button></form>`;
}

// "Why was this denied?": a request id (the one on the user's 403 page) → the decision, the deciding
// policy, each rule's result, the identity it used and the config hash then vs now. Without an id:
// the recent refused requests, filterable, each one a link here.
import { appLink, badge, BASE, code, consolePage, esc, facts, filterForm, sessionLink, table, text, userLink, when } from '../html.js';
import { ConsoleError, type ConsoleRequest } from '../types.js';
import { decisionRows, DECISION_HEADERS } from './shared.js';
import { explanationHtml } from './policy-test.js';

type Row = Record<string, unknown>;

const OUTCOMES: Array<[string, string]> = [
  ['', 'Every refusal'],
  ['deny', 'Denied (403)'],
  ['unauthenticated', 'Not signed in (401)'],
  ['not_found', 'Not found (404)'],
  ['error', 'Errors (4xx/5xx)'],
];

export async function decisionsView(cr: ConsoleRequest): Promise<string> {
  const p = cr.url.searchParams;
  const requestId = (p.get('request_id') ?? '').trim();
  if (requestId) return decisionView(cr, requestId);
  const q = new URLSearchParams({ limit: '50' });
  for (const k of ['email', 'app', 'outcome', 'since', 'cursor']) {
    const v = (p.get(k) ?? '').trim();
    if (v) q.set(k, v);
  }
  const page = await cr.ask('GET', `/admin/decisions?${q}`);
  const rows = ((page.decisions as Row[]) ?? []).filter((d) => p.get('outcome') || d.outcome !== 'allow');
  const next = new URLSearchParams(p);
  if (typeof page.next_cursor === 'string') next.set('cursor', page.next_cursor);
  const body = `<form class="filters" method="get" action="${BASE}/decisions"><div><label for="request-id">Request id (from the error page)</label><input id="request-id" name="request_id" required></div><div><button type="submit">Explain</button></div></form>
<h2>Recent refused requests</h2>
${filterForm(`${BASE}/decisions`, [
  { name: 'email', label: 'User email', value: p.get('email') },
  { name: 'app', label: 'App', value: p.get('app') },
  { name: 'outcome', label: 'Outcome', value: p.get('outcome'), options: OUTCOMES },
  { name: 'since', label: 'Since (1h, 7d, ISO time)', value: p.get('since') },
], 'Filter')}
${table('Refused requests', DECISION_HEADERS, decisionRows(rows), { empty: 'No refused request matches.' })}
${typeof page.next_cursor === 'string' ? `<div class="pager"><a href="${BASE}/decisions?${esc(next.toString())}">Older</a></div>` : ''}`;
  return consolePage(cr, 'decisions', 'Why was this denied?', body);
}

async function decisionView(cr: ConsoleRequest, requestId: string): Promise<string> {
  const [found, config] = await Promise.all([cr.ask('GET', `/admin/decisions?request_id=${encodeURIComponent(requestId)}`), cr.ask('GET', '/admin/config')]);
  const d = ((found.decisions as Row[]) ?? [])[0];
  if (!d) {
    const nr = (found.not_recorded ?? {}) as Row;
    const body = `<p class="lead">No refusal has request id ${code(requestId)}.</p><p>${esc(nr.note ?? '')}</p>${
      nr.outcome ? facts([['Outcome', badge(nr.outcome)], ['App', appLink(nr.app)], ['User', userLink(nr.email)], ['Session', sessionLink(nr.session_id)], ['Time', when(nr.time)]]) : ''
    }`;
    return consolePage(cr, 'decisions', 'Request not found', body);
  }
  const sameConfig = d.config_hash === config.hash;
  const reasons = Array.isArray(d.reasons) && d.reasons.length ? `<ul class="reasons">${(d.reasons as string[]).map((r) => `<li><code>${esc(r)}</code></li>`).join('')}</ul>` : '<p class="muted">No rule-level reason recorded.</p>';
  let now = '';
  if (typeof d.session_id === 'string' && d.app && d.outcome !== 'not_found') {
    // Each rule's result, evaluated again: same identity (the session's), the app's current policies.
    const test = await cr.ask('POST', '/admin/policy-test', { app: d.app, session_id: d.session_id }).catch((err: unknown) => {
      if (err instanceof ConsoleError) return { error: err.message } as Record<string, unknown>;
      throw err;
    });
    now = test.error
      ? `<p class="muted">Could not evaluate again: ${esc(test.error)}</p>`
      : `<h2>Each rule, evaluated again with the current config</h2>
<p>With the same identity (session ${sessionLink(d.session_id)}) and the app's policies as configured now (${code(config.hash)}): ${badge(test.outcome)} by ${code(test.policy ?? 'no policy')}.</p>
${explanationHtml((test.explanation as Row[]) ?? [])}`;
  }
  const body = `${facts([
    ['Outcome', `${badge(d.outcome)} ${d.status ? `(${esc(d.status)})` : ''}`],
    ['Deciding policy', code(d.policy ?? 'none')],
    ['Reason', code(d.reason)],
    ['Time', when(d.time)],
    ['User', userLink(d.email)],
    ['Session (identity used)', `${sessionLink(d.session_id)}${d.identity_version !== null && d.identity_version !== undefined ? ` at identity version ${esc(d.identity_version)}` : ''}`],
    ['App', appLink(d.app)],
    ['Request', `${code(`${String(d.method)} ${String(d.host)}${String(d.path)}`)} from ${text(d.client_ip)}`],
    ['Config then', code(d.config_hash)],
    ['Config now', `${code(config.hash)} ${sameConfig ? badge('unchanged') : '<span class="badge warn">changed since</span>'}`],
  ])}
<h2>Rules at the time</h2>
${reasons}
${now}
<p class="links"><a href="${BASE}/policy-test?app=${encodeURIComponent(String(d.app))}${typeof d.session_id === 'string' ? `&amp;session_id=${encodeURIComponent(d.session_id)}` : ''}">Try a fixed policy (what-if)</a></p>`;
  return consolePage(cr, 'decisions', `Request ${requestId}`, body);
}



// Plain-text rendering for the admin CLI: aligned tables and key/value blocks. No colours, no
// dependencies; output pipes cleanly into grep and less.

export type Row = Record<string, unknown>;

/** A cell: strings as they are, lists joined with ",", null/undefined as "-", times shortened. */
export function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.map(cell).join(',') : '-';
  if (typeof v === 'string') return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) ? shortTime(v) : v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** "2026-11-20T10:04:05.123Z" → "2026-11-20 10:04:05Z". */
export function shortTime(isoTime: string): string {
  return isoTime.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Columns are [header, key or getter]; the last column is never padded. */
export function table(rows: Row[], columns: Array<[string, string | ((r: Row) => unknown)]>): string {
  const cells = rows.map((r) => columns.map(([, k]) => cell(typeof k === 'function' ? k(r) : r[k])));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (cs: string[]) => cs.map((c, i) => (i === cs.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(columns.map(([h]) => h)), ...cells.map(line)].join('\n') + '\n';
}

/** "key: value" lines, aligned. */
export function fields(pairs: Array<[string, unknown]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width + 2)}${cell(v)}`).join('\n') + '\n';
}

export const SESSION_COLUMNS: Array<[string, string | ((r: Row) => unknown)]> = [
  ['ID', 'id'],
  ['EMAIL', (r) => r.email ?? r.user_id],
  ['IDP', 'idp'],
  ['GROUPS', 'groups'],
  ['LAST SEEN', 'last_seen_at'],
  ['EXPIRES', 'expires_at'],
  ['STATUS', 'status'],
  ['APPS', 'apps'],
];

export const DECISION_COLUMNS: Array<[string, string | ((r: Row) => unknown)]> = [
  ['TIME', 'time'],
  ['REQUEST ID', 'request_id'],
  ['APP', 'app'],
  ['EMAIL', 'email'],
  ['OUTCOME', 'outcome'],
  ['POLICY', 'policy'],
  ['REASON', 'reason'],
  ['REQUEST', (r) => `${cell(r.method)} ${cell(r.host)}${cell(r.path)}`],
];

interface Explained {
  policy: string;
  action: string;
  matched: boolean;
  evaluated: boolean;
  note?: string;
  rules: Array<{ matched: boolean; reason: string }>;
}

/** The policy-test answer: verdict, then every policy with its rules (✓ matched, ✗ not). */
export function explanation(r: Row): string {
  const out: string[] = [];
  const by = r.policy ? ` by policy "${cell(r.policy)}"` : '';
  out.push(`${cell(r.app)}: ${String(r.outcome).toUpperCase()}${by} (${cell(r.reason)}) → HTTP ${cell(r.status)}`);
  for (const p of (r.explanation as Explained[] | undefined) ?? []) {
    const state = !p.evaluated ? 'not evaluated' : p.matched ? 'MATCHED' : 'no match';
    out.push(`  ${p.action} "${p.policy}": ${state}${p.note ? ` (${p.note})` : ''}`);
    for (const rule of p.rules) out.push(`    ${rule.matched ? '✓' : '✗'} ${rule.reason}`);
  }
  return out.join('\n') + '\n';
}

/** The what-if answer: counts, then who gains and who loses. */
export function whatIf(r: Row): string {
  const gained = (r.gained as Row[] | undefined) ?? [];
  const lost = (r.lost as Row[] | undefined) ?? [];
  const out = [
    `${cell(r.app)}: ${cell(r.evaluated)} identities seen since ${cell(r.since)}: ${gained.length} would gain access, ${lost.length} would lose it, ${cell(r.unchanged)} unchanged${r.new_app ? ' (new app)' : ''}`,
  ];
  for (const g of gained) out.push(`  + ${cell(g.email ?? g.user_id)} (allowed by "${cell(g.policy)}")`);
  for (const l of lost) out.push(`  - ${cell(l.email ?? l.user_id)} (was allowed by "${cell(l.previous_policy)}"; now ${cell(l.reason)}${l.policy ? ` by "${cell(l.policy)}"` : ''})`);
  return out.join('\n') + '\n';
}

export function sessionText(s: Row): string {
  const id = (s.identity ?? {}) as Row;
  const net = (s.network ?? {}) as Row;
  const rev = s.revocation as Row | null;
  let text = fields([
    ['id', s.id],
    ['status', s.status],
    ['kind', s.kind],
    ['email', s.email],
    ['name', s.name],
    ['sub', id.sub],
    ['issuer', s.issuer],
    ['idp', s.idp],
    ['groups', s.groups],
    ['auth methods', s.auth_methods],
    ['issued', s.issued_at],
    ['expires', s.expires_at],
    ['first seen', s.first_seen_at],
    ['last seen', s.last_seen_at],
    ['login from', `${String(net.login_ip ?? '-')} ${net.login_country ? `(${String(net.login_country)}) ` : ''}${String(net.login_user_agent ?? '')}`.trim()],
    ['last from', `${String(net.last_ip ?? '-')} ${String(net.last_user_agent ?? '')}`.trim()],
    ['device', s.device],
    ['revoked', rev ? `${String(rev.revoked_at)} by ${String(rev.revoked_by)}: ${String(rev.reason ?? '')}` : null],
    ['claims', id.claims],
  ]);
  const apps = (s.apps as Row[] | undefined) ?? [];
  if (apps.length) text += '\n' + table(apps, [['APP', 'app'], ['FIRST SEEN', 'first_seen_at'], ['LAST SEEN', 'last_seen_at'], ['REQUESTS', 'request_count'], ['LAST PATH', 'last_path']]);
  const decisions = (s.decisions as Row[] | undefined) ?? [];
  if (decisions.length) text += '\n' + table(decisions, DECISION_COLUMNS);
  return text;
}

export function userText(u: Row): string {
  const id = (u.identity ?? {}) as Row;
  let text = fields([
    ['email', u.email],
    ['name', u.name],
    ['active sessions', u.active_sessions],
    ['last seen', u.last_seen_at],
    ['idp', id.idp],
    ['groups', id.groups],
    ['auth methods', id.auth_methods],
    ['claims', id.claims],
  ]);
  const history = (u.history as Row[] | undefined) ?? [];
  if (history.length) text += '\nidentity history:\n' + history.map((h) => `  ${String(h.summary)}`).join('\n') + '\n';
  const sessions = (u.sessions as Row[] | undefined) ?? [];
  if (sessions.length) text += '\n' + table(sessions, SESSION_COLUMNS);
  return text;
}

/** A request id without a decision: an allowed request (aggregated), or one the gateway does not know. */
export function notRecordedText(n: Row): string {
  if (!n.outcome) return `no decisions: ${cell(n.note)}\n`;
  const a = n.aggregate as Row | null;
  let text = `${cell(n.outcome)}ed, not recorded individually: app ${cell(n.app)} at ${cell(n.time)}`;
  text += n.session_id ? `, session ${cell(n.session_id)} (${cell(n.email)})\n` : ' (no session: a bypass app)\n';
  if (a) text += `  that session on ${cell(n.app)}: ${cell(a.request_count)} requests from ${cell(a.first_seen_at)} to ${cell(a.last_seen_at)}, last path ${cell(a.last_path)}\n`;
  return text;
}

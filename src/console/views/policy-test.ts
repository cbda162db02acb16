// Policy test and what-if: a user, a session or a typed identity against an app → the outcome with
// each policy's and rule's result (a GET form: the result is a URL to share); a candidate app file →
// who gains and who loses access, from the identities recorded on the app (a POST: the file is large).
import { stringify } from 'yaml';
import { badge, BASE, code, consolePage, csrfField, esc, facts, list, sessionLink, table, userLink } from '../html.js';
import { ConsoleError, type ConsoleRequest } from '../types.js';

type Row = Record<string, unknown>;

/** Each policy in evaluation order with each of its rules' results. */
export function explanationHtml(explanation: Row[]): string {
  const rows: string[][] = [];
  for (const p of explanation) {
    const rules = (p.rules as Row[]) ?? [];
    const head = [`<strong>${esc(p.policy)}</strong>`, esc(p.action), p.evaluated === false ? 'not reached' : p.matched ? badge('matched') : 'no match'];
    if (!rules.length) rows.push([...head, esc(p.note ?? '—')]);
    rules.forEach((r, i) => rows.push([...(i === 0 ? head : ['', '', '']), `${r.matched ? '✓' : '✗'} <code>${esc(r.reason)}</code>`]));
  }
  return table('Each policy and rule', ['Policy', 'Action', 'Result', 'Rule'], rows, { empty: 'The app has no policy.' });
}

export async function policyTestView(cr: ConsoleRequest, whatIf?: Row): Promise<string> {
  const p = cr.url.searchParams;
  const get = (k: string) => (p.get(k) ?? '').trim();
  const config = await cr.ask('GET', '/admin/config');
  const apps = (config.apps as Row[]) ?? [];
  const appName = get('app');
  const who = (['email', 'session_id', 'identity'] as const).filter((k) => get(k));
  let result = '';
  if (appName && who.length) {
    if (who.length > 1) throw new ConsoleError(400, `give only one of email, session_id or identity (got ${who.join(', ')})`);
    const field = who[0] as 'email' | 'session_id' | 'identity';
    let value: unknown = get(field);
    if (field === 'identity') {
      try {
        value = JSON.parse(String(value));
      } catch (err) {
        throw new ConsoleError(400, `identity is not valid JSON: ${(err as Error).message}`);
      }
    }
    const t = await cr.ask('POST', '/admin/policy-test', { app: appName, [field]: value });
    const identity = (t.identity ?? {}) as Row;
    result = `<h2>Result</h2>
${facts([
  ['Outcome', `${badge(t.outcome)} (the gateway would answer ${esc(t.status)})`],
  ['Deciding policy', code(t.policy ?? 'none')],
  ['Reason', code(t.reason)],
  ['Identity', `${userLink(identity.email, identity.sub)}; groups ${list(identity.groups)}; auth methods ${list(identity.amr)}`],
  ['Config', code(t.config_hash)],
])}
${explanationHtml((t.explanation as Row[]) ?? [])}`;
  }
  const options = apps.map((a) => `<option value="${esc(a.name)}"${a.name === appName ? ' selected' : ''}>${esc(a.name)}</option>`).join('');
  const current = apps.find((a) => a.name === appName) ?? apps[0];
  const candidate = whatIf?.app_yaml ?? (current ? appYaml(current) : '');
  const body = `<form method="get" action="${BASE}/policy-test">
<div class="cols"><div><label for="t-app">App</label><select id="t-app" name="app">${options}</select></div>
<div><label for="t-email">User email</label><input id="t-email" name="email" value="${esc(get('email'))}"></div>
<div><label for="t-session">or session id</label><input id="t-session" name="session_id" value="${esc(get('session_id'))}"></div></div>
<label for="t-identity">or an identity (JSON, e.g. {"email": "a@corp.example", "groups": ["staff"]})</label><input id="t-identity" name="identity" value="${esc(get('identity'))}">
<button type="submit">Test</button></form>
${result}
<h2>What if the app file were…</h2>
<p class="muted">Paste a changed app file: it is evaluated against everyone recorded on the app since the time given, next to the current one. Nothing is saved.</p>
<form method="post" action="${BASE}/policy-test/what-if">${csrfField(cr.viewer)}
<label for="w-yaml">Candidate app file (YAML)</label><textarea id="w-yaml" name="app_yaml" spellcheck="false">${esc(candidate)}</textarea>
<label for="w-since">Recorded traffic since</label><input id="w-since" name="since" value="${esc(whatIf?.since ?? '24h')}">
<button type="submit">Run the what-if</button></form>
${whatIf?.result ?? ''}`;
  return consolePage(cr, 'policy', 'Policy test and what-if', body);
}

/** POST /console/policy-test/what-if: the same page with the what-if's answer. */
export async function whatIfView(cr: ConsoleRequest): Promise<string> {
  const appYamlText = cr.form.get('app_yaml') ?? '';
  const since = (cr.form.get('since') ?? '').trim() || '24h';
  const answer = await cr.ask('POST', '/admin/policy-test', { app_yaml: appYamlText, since }).catch((err: unknown) => {
    if (err instanceof ConsoleError) return { error: err.message, problems: err.problems } as Record<string, unknown>;
    throw err;
  });
  let result: string;
  if (typeof answer.error === 'string') {
    const problems = Array.isArray(answer.problems) ? `<ul>${(answer.problems as string[]).map((x) => `<li><code>${esc(x)}</code></li>`).join('')}</ul>` : '';
    result = `<p class="notice error" role="alert">${esc(answer.error)}</p>${problems}`;
  } else {
    const who = (r: Row) => [userLink(r.email, r.user_id), sessionLink(r.session_id), code(r.policy ?? r.previous_policy)];
    result = `<h2>What-if result for ${esc(answer.app)}</h2>
${facts([
  ['Identities evaluated', esc(answer.evaluated)],
  ['Would gain access', esc(((answer.gained as Row[]) ?? []).length)],
  ['Would lose access', esc(((answer.lost as Row[]) ?? []).length)],
  ['Unchanged', esc(answer.unchanged)],
  ['Recorded since', esc(answer.since)],
])}
<h3>Gain access</h3>${table('Would gain access', ['User', 'Session', 'Allowing policy'], ((answer.gained as Row[]) ?? []).map(who), { empty: 'Nobody.' })}
<h3>Lose access</h3>${table('Would lose access', ['User', 'Session', 'Policy'], ((answer.lost as Row[]) ?? []).map(who), { empty: 'Nobody.' })}`;
  }
  return policyTestView(cr, { app_yaml: appYamlText, since, result });
}

/** An app file as the config knows it, to start a what-if from. */
function appYaml(a: Row): string {
  const file: Row = { name: a.name, hosts: a.hosts };
  if (Array.isArray(a.paths) && !(a.paths.length === 1 && a.paths[0] === '/')) file.paths = a.paths;
  if (a.upstream) file.upstream = a.upstream;
  if (Array.isArray(a.mode) && !(a.mode.length === 1 && a.mode[0] === 'proxy')) file.mode = a.mode;
  file.policies = a.policies;
  return stringify(file);
}

// Config: the active config's hash and load time, reloads, the last reload error, settings that
// wait for a restart.
import { code, consolePage, esc, facts, list, table, when } from '../html.js';
import type { ConsoleRequest } from '../types.js';

type Row = Record<string, unknown>;

export async function configView(cr: ConsoleRequest): Promise<string> {
  const c = await cr.ask('GET', '/admin/config');
  const err = c.last_reload_error as { at: string; problems: string[] } | null;
  const pending = (c.pending_restart as string[]) ?? [];
  const body = `${facts([
    ['Active config hash', code(c.hash)],
    ['Loaded', when(c.loaded_at)],
    ['File', code(c.file)],
    ['Reloads', `${esc(c.reloads)} applied, ${esc(c.failed_reloads)} refused`],
    ['Pending restart', pending.length ? `<span class="badge warn">restart needed</span> ${list(pending)}` : 'nothing: every change is applied'],
    ['Redacted claims', list(c.redact_claims)],
  ])}
<h2>Last reload error</h2>
${err ? `<p class="notice error">Refused at ${when(err.at)}; the previous config stays active.</p><ul>${err.problems.map((p) => `<li><code>${esc(p)}</code></li>`).join('')}</ul>` : '<p>None: the last reload (if any) was applied.</p>'}
<h2>Apps</h2>
${table('Apps in this config', ['App', 'File'], ((c.apps as Row[]) ?? []).map((a) => [esc(a.name), code(a.file)]))}`;
  return consolePage(cr, 'config', 'Config', body);
}

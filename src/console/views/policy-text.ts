// An app's policies written out for people: "allow staff — if group is staff or admins; and
// auth method is mfa; unless email is x", in evaluation order (bypass/service_auth, deny, allow).
import { esc } from '../html.js';

type Row = Record<string, unknown>;

const RANK: Record<string, number> = { service_auth: 0, bypass: 0, deny: 1, allow: 2 };

function rule(r: Row): string {
  const [sel, value] = Object.entries(r)[0] ?? ['?', ''];
  if (sel === 'everyone') return 'everyone';
  if (sel === 'valid_certificate') return 'a valid client certificate';
  if (sel === 'claim') {
    const c = value as { name?: string; value?: unknown };
    return `claim <code>${esc(c.name)}</code> is ${esc(JSON.stringify(c.value))}`;
  }
  const values = Array.isArray(value) ? value : [value];
  return `${esc(sel.replace(/_/g, ' '))} is ${values.map((v) => `<code>${esc(v)}</code>`).join(' or ')}`;
}

export function policiesHtml(policies: Row[]): string {
  if (!policies.length) return '<p class="muted">No policy: every request is denied.</p>';
  const ordered = policies.map((p, i) => ({ p, i })).sort((a, b) => (RANK[String(a.p.action)] ?? 3) - (RANK[String(b.p.action)] ?? 3) || a.i - b.i);
  const items = ordered.map(({ p }) => {
    const include = ((p.include as Row[]) ?? []).map(rule).join(' <em>or</em> ');
    const require = ((p.require as Row[]) ?? []).map((r) => `<li>and ${rule(r)}</li>`).join('');
    const exclude = ((p.exclude as Row[]) ?? []).map((r) => `<li>unless ${rule(r)}</li>`).join('');
    return `<li><span class="badge ${p.action === 'deny' ? 'bad' : 'ok'}">${esc(p.action)}</span> <strong>${esc(p.name)}</strong> — if ${include || 'nothing'}${require || exclude ? `<ul>${require}${exclude}</ul>` : ''}</li>`;
  });
  return `<ol>${items.join('')}</ol><p class="muted">Evaluated in this order; the first policy that matches decides. No match: denied.</p>`;
}

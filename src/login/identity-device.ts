// The identity page's device rows: the device this session proved, its posture, and what the
// browser's User-Agent claims (marked client-claimed).
import { esc } from '../pages/template.js';
import type { presentBoundDevice } from '../admin/present-device.js';
export function deviceRows(d: ReturnType<typeof presentBoundDevice>, agent: Readonly<Record<string, string>>): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (!d) rows.push(['Device', 'none verified in this session · <a href="/.gatehouse/devices">your devices</a>']);
  else {
    const kind = [d.authenticator.attachment ?? 'authenticator', d.authenticator.name ?? d.authenticator.aaguid].join(', ');
    rows.push(['Device', `${esc(d.name)} <code>${esc(d.id)}</code> · <a href="/.gatehouse/devices">your devices</a>`]);
    rows.push(['Authenticator', esc(kind)]);
    rows.push(['Device approved', d.approved_at ? esc(d.approved_at) : 'pending approval']);
    rows.push(['Device last verified', esc(d.last_assertion_at ?? '—')]);
    const facts = Object.entries(d.posture).map(([k, f]) => `${esc(k)}: ${esc(f.value)}${f.stale ? ' (stale)' : ''}`);
    rows.push(['Device posture', facts.length ? facts.join(', ') : 'no report']);
  }
  const claimed = Object.entries(agent).map(([k, v]) => `${esc(k)}: ${esc(v)}`);
  rows.push(['Browser says (client-claimed)', claimed.length ? claimed.join(', ') : '—']);
  return rows;
}

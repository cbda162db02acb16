// Table rows more than one view shows: decisions and identity-history entries.
import { appLink, badge, code, decisionHref, esc, link, list, sessionLink, text, userLink, when } from '../html.js';

type Row = Record<string, unknown>;

export const DECISION_HEADERS = ['Request id', 'Time', 'User', 'App', 'Outcome', 'Policy', 'Reason', 'Session'];

export function decisionRows(decisions: Row[]): string[][] {
  return decisions.map((d) => [
    link(decisionHref(String(d.request_id)), d.request_id),
    when(d.time),
    userLink(d.email),
    appLink(d.app),
    badge(d.outcome),
    code(d.policy),
    code(d.reason),
    sessionLink(d.session_id),
  ]);
}

export const HISTORY_HEADERS = ['Time', 'Change', 'Groups added', 'Groups removed', 'Source', 'Session'];

export function historyRows(history: Row[]): string[][] {
  return history.map((h) => {
    const groups = (h.groups ?? null) as { added?: string[]; removed?: string[] } | null;
    return [
      when(h.time),
      esc(h.summary),
      groups?.added?.length ? `<span class="diff-add">+ ${list(groups.added)}</span>` : '—',
      groups?.removed?.length ? `<span class="diff-del">− ${list(groups.removed)}</span>` : '—',
      text(h.source),
      sessionLink(h.session_id),
    ];
  });
}

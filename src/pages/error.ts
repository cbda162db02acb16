// Every error page, from the data listener's 400–504 to the sign-in module's failures: the same
// shell, the status code, what happened, what to do, and the request id to give an administrator.
import { esc, facts, renderPage } from './template.js';

export interface ErrorView {
  status: number;
  title: string;
  message: string;
  requestId: string;
  time: number;
  app?: string | null;
  /** Who was refused (403). */
  email?: string;
  /** A machine-readable reason, shown as code. */
  reason?: string;
  reasons?: string[];
  /** What to do next. */
  hint?: string;
  /** "Sign in as someone else" (403 for a signed-in browser). */
  switchHref?: string;
  /** "Start again" (a sign-in that failed). */
  againHref?: string;
}

export function renderErrorPage(v: ErrorView): string {
  const rows: Array<[string, string]> = [];
  if (v.email) rows.push(['Signed in as', esc(v.email)]);
  if (v.reason) rows.push(['Reason', `<code>${esc(v.reason)}</code>`]);
  const reasons = v.reasons?.length ? `<ul class="reasons">${v.reasons.map((r) => `<li><code>${esc(r)}</code></li>`).join('')}</ul>` : '';
  const actions = [
    v.againHref ? `<a class="button" href="${esc(v.againHref)}">Start again</a>` : '',
    v.switchHref ? `<a class="button secondary" href="${esc(v.switchHref)}">Sign in as someone else</a>` : '',
  ].join('');
  const body = `<p class="lead">${esc(v.message)}</p>
${rows.length ? facts(rows) : ''}${reasons}${v.hint ? `<p class="muted">${esc(v.hint)}</p>` : ''}${actions}`;
  return renderPage({ title: v.title, body, status: v.status, app: v.app ?? null, requestId: v.requestId, time: v.time });
}

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

/** What to do next, for error pages whose caller has nothing more specific to say. */
const NEXT_STEP: Record<number, string> = {
  400: 'Check the address; if you followed a link here, give the request id to your administrator.',
  401: 'Sign in to this application (your tool or browser must send a session or token).',
  404: 'Check the address; if you followed a link here, give the request id to your administrator.',
  500: 'Try again; if it persists, give the request id to your administrator.',
  503: 'Try again in a moment; if it persists, give the request id to your administrator.',
};

export function renderErrorPage(v: ErrorView): string {
  const hint = v.hint ?? NEXT_STEP[v.status];
  const rows: Array<[string, string]> = [];
  if (v.email) rows.push(['Signed in as', esc(v.email)]);
  if (v.reason) rows.push(['Reason', `<code>${esc(v.reason)}</code>`]);
  const reasons = v.reasons?.length ? `<ul class="reasons">${v.reasons.map((r) => `<li><code>${esc(r)}</code></li>`).join('')}</ul>` : '';
  const actions = [
    v.againHref ? `<a class="button" href="${esc(v.againHref)}">Start again</a>` : '',
    v.switchHref ? `<a class="button secondary" href="${esc(v.switchHref)}">Sign in as someone else</a>` : '',
  ].join('');
  const body = `<p class="lead">${esc(v.message)}</p>
${rows.length ? facts(rows) : ''}${reasons}${hint ? `<p class="muted">${esc(hint)}</p>` : ''}${actions}`;
  return renderPage({ title: v.title, body, status: v.status, app: v.app ?? null, requestId: v.requestId, time: v.time });
}

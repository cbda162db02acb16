// The console's routes, the same on the admin listener and on console_host: every view a GET with
// its state in the URL; every action a POST form that must come from this origin and carry the
// viewer's CSRF token, and — for revocations — come from an operator. The front (admin-front.ts or
// host-front.ts) has already decided who the viewer is.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { renderErrorPage } from '../pages/error.js';
import { PAGE_CSP } from '../pages/template.js';
import { readConsoleForm } from './form.js';
import { appHref, BASE, sessionHref, userHref } from './html.js';
import { CONSOLE_SCRIPT, CONSOLE_SCRIPT_PATH } from './script.js';
import { ConsoleError, type AdminApi, type ConsoleRequest, type Viewer } from './types.js';
import { sessionsView } from './views/sessions.js';
import { sessionView } from './views/session.js';
import { usersView, userView } from './views/people.js';
import { appsView, appView } from './views/apps.js';
import { decisionsView } from './views/decisions.js';
import { policyTestView, whatIfView } from './views/policy-test.js';
import { configView } from './views/config.js';
import { actionsView } from './views/actions.js';

/** The pages' policy; the live list may fetch this origin; forms may only post to it. */
export const CONSOLE_CSP = `${PAGE_CSP}; connect-src 'self'; form-action 'self'`;

type Result = string | { redirect: string };
type View = (cr: ConsoleRequest, arg: string) => Promise<Result>;

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  view: View;
  /** Only operators may (revocations). */
  operator?: boolean;
}

const reason = (cr: ConsoleRequest): string => {
  const r = (cr.form.get('reason') ?? '').trim();
  if (!r) throw new ConsoleError(400, 'reason is required: say why (it is recorded with the action)');
  return r;
};

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/console\/?$/, view: () => Promise.resolve({ redirect: `${BASE}/sessions` }) },
  { method: 'GET', pattern: /^\/console\/sessions$/, view: sessionsView },
  { method: 'GET', pattern: /^\/console\/sessions\/([^/]+)$/, view: sessionView },
  {
    method: 'POST',
    pattern: /^\/console\/sessions\/([^/]+)\/revoke$/,
    operator: true,
    view: async (cr, id) => {
      await cr.ask('DELETE', `/admin/sessions/${encodeURIComponent(id)}`, { reason: reason(cr) });
      return { redirect: `${sessionHref(id)}?done=revoked` };
    },
  },
  { method: 'GET', pattern: /^\/console\/users$/, view: usersView },
  { method: 'GET', pattern: /^\/console\/users\/([^/]+)$/, view: userView },
  {
    method: 'POST',
    pattern: /^\/console\/users\/([^/]+)\/logout$/,
    operator: true,
    view: async (cr, email) => {
      await cr.ask('DELETE', `/admin/users/${encodeURIComponent(email)}/sessions`, { reason: reason(cr) });
      return { redirect: `${userHref(email)}?done=logged_out` };
    },
  },
  { method: 'GET', pattern: /^\/console\/apps$/, view: appsView },
  { method: 'GET', pattern: /^\/console\/apps\/([^/]+)$/, view: appView },
  {
    method: 'POST',
    pattern: /^\/console\/apps\/([^/]+)\/revoke$/,
    operator: true,
    view: async (cr, name) => {
      await cr.ask('POST', `/admin/apps/${encodeURIComponent(name)}/revoke`, { reason: reason(cr) });
      return { redirect: `${appHref(name)}?done=revoked` };
    },
  },
  { method: 'GET', pattern: /^\/console\/decisions$/, view: decisionsView },
  { method: 'GET', pattern: /^\/console\/policy-test$/, view: (cr) => policyTestView(cr) },
  { method: 'POST', pattern: /^\/console\/policy-test\/what-if$/, view: whatIfView },
  { method: 'GET', pattern: /^\/console\/config$/, view: configView },
  { method: 'GET', pattern: /^\/console\/actions$/, view: actionsView },
];

/** A form POST from a page of this origin: Sec-Fetch-Site and Origin, when the browser sends them, say so. */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true; // left to the token: some privacy tools strip Origin
  try {
    return origin !== 'null' && new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

export function sendHtml(res: ServerResponse, status: number, requestId: string, html: string, cookies: string[] = []): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': CONSOLE_CSP,
    'cache-control': 'no-store',
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'x-request-id': requestId,
    'content-length': Buffer.byteLength(html),
    ...(cookies.length ? { 'set-cookie': cookies } : {}),
  });
  res.end(html);
}

export function sendRedirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', 'content-length': 0, ...(cookies.length ? { 'set-cookie': cookies } : {}) });
  res.end();
}

export function sendError(res: ServerResponse, status: number, requestId: string, title: string, message: string): void {
  sendHtml(res, status, requestId, renderErrorPage({ status, title, message, requestId, time: Date.now(), hint: `Back to the console: ${BASE}/` }));
}

const TITLES: Record<number, string> = { 400: 'Bad request', 403: 'Not allowed', 404: 'Not found', 405: 'Method not allowed', 413: 'Too large', 415: 'Unsupported form', 503: 'Unavailable' };

/** Serves the console script (no viewer needed: it is static and public). True when it did. */
export function serveScript(path: string, res: ServerResponse): boolean {
  if (path !== CONSOLE_SCRIPT_PATH) return false;
  const body = Buffer.from(CONSOLE_SCRIPT);
  res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff', 'content-length': body.length });
  res.end(body);
  return true;
}

/** One console request from a known viewer. */
export async function handleConsole(api: AdminApi, req: IncomingMessage, res: ServerResponse, url: URL, requestId: string, viewer: Viewer): Promise<void> {
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  let match: RegExpExecArray | null = null;
  const route = ROUTES.find((r) => (match = r.pattern.exec(url.pathname)) !== null && r.method === method);
  if (!route || !match) {
    req.resume();
    const other = ROUTES.some((r) => r.pattern.test(url.pathname));
    return sendError(res, other ? 405 : 404, requestId, TITLES[other ? 405 : 404] as string, other ? `Use the page's own form for ${url.pathname}.` : `The console has no page at ${url.pathname}.`);
  }
  let arg = '';
  try {
    arg = decodeURIComponent((match as RegExpExecArray)[1] ?? '');
  } catch {
    return sendError(res, 400, requestId, 'Bad request', 'The address has bad percent-encoding.');
  }
  let form = new URLSearchParams();
  if (method === 'POST') {
    const read = await readConsoleForm(req);
    if (!read.ok) return sendError(res, read.status, requestId, TITLES[read.status] as string, 'The form could not be read (urlencoded, 1 MiB at most).');
    // Same origin and the viewer's token: a page of another site can make the browser post, but
    // cannot read the token.
    const token = read.fields.get('csrf') ?? '';
    if (!sameOrigin(req) || !equal(token, viewer.csrf)) {
      return sendError(res, 403, requestId, 'Form refused', 'This form did not come from a console page of this site (cross-site request or expired page): nothing was done. Reload the page and try again.');
    }
    if (route.operator && viewer.role !== 'operator') {
      return sendError(res, 403, requestId, 'Not allowed', 'Only console operators may do this; you are a viewer.');
    }
    form = read.fields;
  } else req.resume();
  const cr: ConsoleRequest = {
    req,
    res,
    url,
    requestId,
    viewer,
    form,
    ask: async (m, target, body) => {
      const a = await api(m, target, viewer.actor, req, body, requestId);
      if (a.status >= 400) throw new ConsoleError(a.status, String(a.body.error ?? `the admin API answered ${a.status}`), Array.isArray(a.body.problems) ? (a.body.problems as string[]) : undefined);
      return a.body;
    },
  };
  try {
    const out = await route.view(cr, arg);
    if (typeof out === 'string') sendHtml(res, 200, requestId, out);
    else sendRedirect(res, out.redirect);
  } catch (err) {
    if (!(err instanceof ConsoleError)) throw err;
    sendError(res, err.status, requestId, TITLES[err.status] ?? 'Error', err.message);
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// The console on the admin listener. A browser cannot send the admin bearer token by itself, so an
// admin types it once into a small form; the console answers with its own cookie — HttpOnly,
// Secure, SameSite=Strict, Path=/console, 8 hours — that names the token (never contains it) and is
// signed with a key of this process. Removing the token from the tokens file ends those sign-ins.
// Every admin-listener sign-in is an operator: the token already grants the whole admin API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { AdminTokens } from '../admin/server.js';
import { readConsoleForm } from './form.js';
import { esc, renderPage } from '../pages/template.js';
import { BASE } from './html.js';
import { handleConsole, sameOrigin, sendError, sendHtml, sendRedirect, serveScript } from './server.js';
import type { AdminApi, Viewer } from './types.js';

export const CONSOLE_COOKIE = 'gatehouse_console';
const TTL_MS = 8 * 3_600_000;
const SIGN_IN = `${BASE}/sign-in`;
const SIGN_OUT = `${BASE}/sign-out`;

export class AdminConsole {
  private readonly key = randomBytes(32);

  constructor(
    private readonly api: AdminApi,
    private readonly tokens: () => AdminTokens,
  ) {}

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  /** `<token name>.<expires>.<nonce>.<mac>`: the name is base64url so no dot can hide in it. */
  private cookieFor(name: string, now = Date.now()): string {
    const body = `${Buffer.from(name).toString('base64url')}.${now + TTL_MS}.${randomBytes(16).toString('base64url')}`;
    return `${CONSOLE_COOKIE}=${body}.${this.mac(body)}; Path=${BASE}; HttpOnly; Secure; SameSite=Strict; Max-Age=${TTL_MS / 1000}`;
  }

  private viewer(req: IncomingMessage, now = Date.now()): Viewer | null {
    const raw = parseCookies(req.headers.cookie ?? '')[CONSOLE_COOKIE];
    const m = raw ? /^([A-Za-z0-9_-]+)\.(\d{1,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
    if (!m) return null;
    const body = `${m[1]}.${m[2]}.${m[3]}`;
    const given = Buffer.from(m[4] as string);
    const expected = Buffer.from(this.mac(body));
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || Number(m[2]) < now) return null;
    const name = Buffer.from(m[1] as string, 'base64url').toString('utf8');
    if (!this.tokens().has(name)) return null;
    return { actor: `admin:${name}`, label: `admin token “${name}”`, role: 'operator', csrf: this.mac(`csrf\n${m[3]}`), signOut: SIGN_OUT };
  }

  /** The admin router's mount for /console. */
  handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const requestId = randomUUID();
    if (req.method === 'GET' && serveScript(url.pathname, res)) return void req.resume();
    if (url.pathname === SIGN_IN) return this.signIn(req, res, url, requestId);
    const viewer = this.viewer(req);
    if (url.pathname === SIGN_OUT && req.method === 'POST') {
      req.resume();
      if (!sameOrigin(req)) return sendError(res, 403, requestId, 'Form refused', 'This form did not come from a console page of this site.');
      return sendRedirect(res, SIGN_IN, [`${CONSOLE_COOKIE}=; Path=${BASE}; HttpOnly; Secure; SameSite=Strict; Max-Age=0`]);
    }
    if (!viewer) {
      req.resume();
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 403, requestId, 'Not signed in', 'Sign in to the console first: nothing was done.');
      return sendRedirect(res, `${SIGN_IN}?next=${encodeURIComponent(url.pathname + url.search)}`);
    }
    await handleConsole(this.api, req, res, url, requestId, viewer);
  };

  private async signIn(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> {
    const next = safeNext(url.searchParams.get('next'));
    if (req.method !== 'POST') {
      req.resume();
      return sendHtml(res, 200, requestId, signInPage(requestId, next, this.tokens().count === 0 ? 'The admin API is disabled: set GATEHOUSE_ADMIN_TOKEN or admin.tokens_file.' : null));
    }
    const form = await readConsoleForm(req, 8 * 1024);
    if (!form.ok) return sendError(res, form.status, requestId, 'Bad request', 'The form could not be read.');
    if (!sameOrigin(req)) return sendError(res, 403, requestId, 'Form refused', 'This form did not come from a console page of this site: nothing was done.');
    const name = this.tokens().check(`Bearer ${form.fields.get('token') ?? ''}`);
    if (name === null) return sendHtml(res, 401, requestId, signInPage(requestId, safeNext(form.fields.get('next')), 'That is not an admin token of this gateway.'));
    sendRedirect(res, safeNext(form.fields.get('next')), [this.cookieFor(name)]);
  }
}

/** Only console paths: never an open redirect. */
function safeNext(v: string | null | undefined): string {
  return v && /^\/console\/[^\\]*$/.test(v) && !v.startsWith('//') ? v : `${BASE}/sessions`;
}

function signInPage(requestId: string, next: string, error: string | null): string {
  const body = `${error ? `<p class="notice error" role="alert">${esc(error)}</p>` : ''}<p class="lead">Type an admin token of this gateway (from <code>admin.tokens_file</code> or <code>GATEHOUSE_ADMIN_TOKEN</code>). It is checked once; the browser keeps an 8-hour console cookie, never the token.</p>
<form method="post" action="${SIGN_IN}"><input type="hidden" name="next" value="${esc(next)}">
<label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in to the console</button></form>`;
  return renderPage({ title: 'Console sign-in', body, requestId, time: Date.now() });
}

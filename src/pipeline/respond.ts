// Turns a Rejection into a response: HTML for browsers, JSON otherwise, always with the request id.
// The one place that knows what each error code looks like to a client.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { ERRORS, type ErrorCode, type Rejection } from '../errors.js';
import type { RequestContext } from '../context.js';
import { PAGE_CSP } from '../pages/template.js';
import { renderErrorPage } from '../pages/error.js';
import { bodyUnread, wantsHtml } from './request.js';

export function sendRejection(ctx: RequestContext, res: ServerResponse, rej: Rejection): void {
  const status = rej.redirect ? 302 : ERRORS[rej.code].status;
  ctx.status = status;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('x-request-id', ctx.requestId);
  res.setHeader('cache-control', 'no-store');
  if (bodyUnread(ctx.req)) res.setHeader('connection', 'close');
  if (rej.headers) for (const [k, v] of Object.entries(rej.headers)) res.setHeader(k, v);
  if (rej.redirect) {
    res.statusCode = 302;
    res.setHeader('location', rej.redirect);
    res.end();
    return;
  }
  const body = pageBody(ctx, rej);
  const html = wantsHtml(ctx.req);
  const payload = html ? renderHtml(ctx, body) : JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', html ? 'text/html; charset=utf-8' : 'application/json');
  res.setHeader('content-length', Buffer.byteLength(payload));
  if (html) res.setHeader('content-security-policy', PAGE_CSP);
  ctx.bytes = Buffer.byteLength(payload);
  res.end(ctx.req.method === 'HEAD' ? undefined : payload);
}

/** A rejected WebSocket upgrade: a plain HTTP response on the raw socket, then close. */
export function sendUpgradeRejection(ctx: RequestContext, socket: Duplex, rej: Rejection): void {
  const status = ERRORS[rej.code].status;
  ctx.status = status;
  endSocket(socket, status, ctx.requestId, JSON.stringify(pageBody(ctx, rej)), rej.headers);
}

/**
 * A request Node's HTTP parser refused (headers too large, too slow, malformed): no context yet,
 * but the same JSON body as every error page, from the same table, with a fresh request id.
 */
export function sendParserRejection(socket: Duplex, code: ErrorCode, requestId: string): void {
  const def = ERRORS[code];
  const body = { error: code, status: def.status, title: def.title, message: def.detail, request_id: requestId };
  endSocket(socket, def.status, requestId, JSON.stringify(body));
}

function endSocket(socket: Duplex, status: number, requestId: string, payload: string, headers?: Record<string, string>): void {
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'connection: close',
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(payload)}`,
    `x-request-id: ${requestId}`,
  ];
  if (headers) for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (socket.writable) socket.end(lines.join('\r\n') + '\r\n\r\n' + payload);
  else socket.destroy();
}

interface PageBody {
  error: string;
  status: number;
  title: string;
  message: string;
  request_id: string;
  reason?: string;
  app?: string;
  email?: string;
  reasons?: string[];
  hint?: string;
}

function pageBody(ctx: RequestContext, rej: Rejection): PageBody {
  const def = ERRORS[rej.code];
  const body: PageBody = {
    error: rej.code,
    status: def.status,
    title: def.title,
    message: rej.message ?? def.detail,
    request_id: ctx.requestId,
  };
  if (rej.code === 'unauthenticated' || rej.code === 'bad_request') body.reason = rej.reason;
  if (rej.code === 'forbidden') {
    if (ctx.app) body.app = ctx.app.name;
    if (ctx.identity?.email) body.email = ctx.identity.email;
    body.hint = 'If you think you should have access, give this request id to your administrator.';
    if (ctx.app?.showDenialReasons && ctx.decision) {
      body.reason = ctx.decision.reason;
      body.reasons = ctx.decision.reasons;
    }
    // Says what to do, not why a policy refused: shown whatever show_denial_reasons says.
    if (rej.reason === 'device_required') body.reason = rej.reason;
  }
  if (rej.code === 'upstream_unavailable' || rej.code === 'upstream_timeout') {
    body.hint = 'Try again in a moment; if it persists, give this request id to your administrator.';
  }
  return body;
}

function renderHtml(ctx: RequestContext, b: PageBody): string {
  return renderErrorPage({
    status: b.status,
    title: b.title,
    message: b.message,
    requestId: b.request_id,
    time: Date.now(),
    app: b.app ?? ctx.app?.name ?? null,
    ...(b.email ? { email: b.email } : {}),
    ...(b.reason ? { reason: b.reason } : {}),
    ...(b.reasons ? { reasons: b.reasons } : {}),
    ...(b.hint ? { hint: b.hint } : {}),
    ...(b.error === 'forbidden' && ctx.identity?.kind === 'session' && ctx.credentialSource === 'cookie' ? { switchHref: switchUserHref(ctx) } : {}),
  });
}

/** The sign-in page for this same URL, without reusing the session the browser has. */
function switchUserHref(ctx: RequestContext): string {
  const here = `${ctx.proto}://${ctx.authority}${ctx.path}${ctx.query}`;
  return `/.gatehouse/login?${new URLSearchParams({ rd: here, switch: '1' }).toString()}`;
}

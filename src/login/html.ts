// Response helpers for every login page: the shared page shell (src/pages), one strict header set (CSP, no-store,
// no framing, no referrer to other sites — login URLs carry rd, callback URLs carry codes; not
// no-referrer, which makes browsers send "Origin: null" on the form POST), JSON and redirects.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';
import { PAGE_CSP, renderPage, type PageOptions } from '../pages/template.js';

export { esc } from '../pages/template.js';

function securityHeaders(ctx: RequestContext, res: ServerResponse, cookies: string[]): void {
  res.setHeader('x-request-id', ctx.requestId);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('pragma', 'no-cache');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  if (cookies.length) res.setHeader('set-cookie', cookies);
}

function finish(ctx: RequestContext, res: ServerResponse, status: number, type: string, body: string): void {
  const bytes = Buffer.byteLength(body);
  ctx.status = status;
  ctx.bytes = bytes;
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.setHeader('content-length', bytes);
  res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

/** `csp`: PAGE_CSP, or a page's stricter-or-equal variant (the device pages also fetch from 'self'). */
export function sendHtml(ctx: RequestContext, res: ServerResponse, status: number, html: string, cookies: string[] = [], csp = PAGE_CSP): void {
  securityHeaders(ctx, res, cookies);
  res.setHeader('content-security-policy', csp);
  finish(ctx, res, status, 'text/html; charset=utf-8', html);
}

export function sendJson(ctx: RequestContext, res: ServerResponse, status: number, body: unknown, cookies: string[] = []): void {
  securityHeaders(ctx, res, cookies);
  finish(ctx, res, status, 'application/json', JSON.stringify(body, null, 2) + '\n');
}

/** 302 for GETs; 303 after a POST so the browser follows with a GET. */
export function redirect(ctx: RequestContext, res: ServerResponse, location: string, cookies: string[] = []): void {
  securityHeaders(ctx, res, cookies);
  const status = ctx.req.method === 'POST' ? 303 : 302;
  res.setHeader('location', location);
  finish(ctx, res, status, 'text/plain; charset=utf-8', '');
}

/** A page in the shared shell, with this request's id and time. `body` must already be escaped HTML. */
export function page(ctx: RequestContext, title: string, body: string, opts: Pick<PageOptions, 'app' | 'wide' | 'scripts'> = {}): string {
  const app = opts.app === undefined ? (ctx.app?.name ?? null) : opts.app;
  return renderPage({ title, body, requestId: ctx.requestId, time: Date.now(), app, ...(opts.wide ? { wide: true } : {}), ...(opts.scripts ? { scripts: opts.scripts } : {}) });
}

// Response helpers for every login page: HTML-escaped templates, one strict header set (CSP, no-store,
// no framing, no referrer to other sites — login URLs carry rd, callback URLs carry codes; not
// no-referrer, which makes browsers send "Origin: null" on the form POST), JSON and redirects.
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

// No script at all; inline styles only. form-action is left out on purpose: a successful sign-in
// redirects the form POST to the app host, which may be another origin (the handoff).
export const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

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

export function sendHtml(ctx: RequestContext, res: ServerResponse, status: number, html: string, cookies: string[] = []): void {
  securityHeaders(ctx, res, cookies);
  res.setHeader('content-security-policy', CSP);
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

/** The page frame every login page shares. `body` must already be escaped HTML. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>${esc(title)} · Gatehouse</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #bbc;border-radius:4px}
button,.button{display:block;width:100%;margin-top:1.2rem;padding:.6rem;font:inherit;background:#2456c8;color:#fff;border:0;border-radius:4px;text-align:center;text-decoration:none;cursor:pointer}
.error{background:#fdecea;color:#8a1c12;padding:.6rem;border-radius:4px}.muted{color:#667;font-size:.9em}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.25rem .4rem;border-bottom:1px solid #eee;word-break:break-all}
</style></head><body><main>
<h1>${esc(title)}</h1>
${body}
</main></body></html>
`;
}

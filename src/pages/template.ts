// The one page shell of every person-facing page: product name, heading, the page's content, and
// the same footer everywhere (status code on error pages, app where known, time, request id). Pure
// rendering: every value is escaped here or by the caller with esc(); nothing of the gateway is
// imported, so the console can reuse it as is.
import { createHash } from 'node:crypto';
import { STYLE } from './style.js';
import { TIME_SCRIPT } from './time-script.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const sha256 = (text: string, enc: 'base64' | 'hex'): string => createHash('sha256').update(text).digest(enc);

export interface Asset {
  type: string;
  body: Buffer;
}

/** The page assets, by path: content-addressed, so they may be cached for a year. */
export const TIME_SCRIPT_PATH = `/.gatehouse/assets/time-${sha256(TIME_SCRIPT, 'hex').slice(0, 12)}.js`;
const assets = new Map<string, Asset>([[TIME_SCRIPT_PATH, { type: 'text/javascript; charset=utf-8', body: Buffer.from(TIME_SCRIPT) }]]);
export const ASSETS: ReadonlyMap<string, Asset> = assets;

/** Adds a script a page loads (CSP script-src 'self'); returns its content-addressed path. */
export function addScript(name: string, text: string): string {
  const path = `/.gatehouse/assets/${name}-${sha256(text, 'hex').slice(0, 12)}.js`;
  assets.set(path, { type: 'text/javascript; charset=utf-8', body: Buffer.from(text) });
  return path;
}
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * The pages' Content-Security-Policy: the inline stylesheet by its hash, scripts only from this
 * origin (the time script), nothing else. form-action is left out on purpose: a successful sign-in
 * redirects the form POST to the app host, which may be another origin (the handoff).
 */
export const PAGE_CSP = `default-src 'none'; style-src 'sha256-${sha256(STYLE, 'base64')}'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'`;

/** A time in UTC (readable without script); the time script shows it in the reader's zone. */
export function timeHtml(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const iso = new Date(ms).toISOString();
  const utc = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  return `<time datetime="${iso}" title="${utc}" data-utc="${utc}">${utc}</time>`;
}

/** A definition list of label → already-escaped HTML (labels never break inside a word). */
export function facts(rows: ReadonlyArray<readonly [string, string]>): string {
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

/** The footer every page shares, one group per fact so a narrow screen wraps between them. */
function metaList(rows: ReadonlyArray<readonly [string, string]>): string {
  return `<dl class="meta">${rows.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

export interface PageOptions {
  /** The heading and the document title. */
  title: string;
  /** The page content: already-escaped HTML. */
  body: string;
  requestId: string;
  /** Epoch ms: when the page was made. */
  time: number;
  /** Error pages show their status code. */
  status?: number;
  /** The application the page is about, when known. */
  app?: string | null;
  /** A wider card (the identity page); 'console': the console's full-width card. */
  wide?: boolean | 'console';
  /** Already-escaped HTML between the product name and the card (the console's navigation). */
  nav?: string;
  /** Further same-origin scripts (the console's), loaded deferred after the time script. */
  scripts?: string[];
}

export function renderPage(p: PageOptions): string {
  const meta: Array<[string, string]> = [];
  if (p.status !== undefined) meta.push(['Status', String(p.status)]);
  if (p.app) meta.push(['App', esc(p.app)]);
  meta.push(['Time', timeHtml(p.time)], ['Request id', `<code>${esc(p.requestId)}</code>`]);
  const badge = p.status !== undefined ? `<p class="status status-${String(p.status)[0]}">${p.status}</p>\n` : '';
  const title = p.status !== undefined ? `${p.status} ${p.title}` : p.title;
  const width = p.wide === 'console' ? 'console' : p.wide ? 'wide' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>${esc(title)} · Gatehouse</title>
<style>${STYLE}</style>
<script src="${TIME_SCRIPT_PATH}" defer></script>
${(p.scripts ?? []).map((src) => `<script src="${esc(src)}" defer></script>\n`).join('')}</head><body${width ? ` class="${width}"` : ''}>
<header class="brand"><span class="brand-mark" aria-hidden="true"></span>Gatehouse</header>
${p.nav ?? ''}<main${width ? ` class="${width}"` : ''}>
${badge}<h1>${esc(p.title)}</h1>
${p.body}
${metaList(meta)}
</main>
</body></html>
`;
}

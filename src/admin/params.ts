// Parameter checking shared by the admin endpoints: every bad parameter is a 400 naming it, every
// store failure a 503 that says the audit store is unavailable (never a false success).
import { isIP } from 'node:net';
import { parseDuration } from '../config/duration.js';
import { decodeCursor, encodeCursor, StoreQueryError } from '../store/cursor.js';
import type { AdminDeps } from './deps.js';
import { HttpError } from './server.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** A query parameter, or undefined when absent or empty. */
export function query(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name);
  return v === null || v === '' ? undefined : v;
}

/** Rejects query parameters the endpoint does not know (a typo would otherwise silently list everything). */
export function onlyParams(url: URL, allowed: readonly string[]): void {
  for (const name of url.searchParams.keys()) {
    if (!allowed.includes(name)) throw new HttpError(400, `unknown query parameter "${name}" (allowed: ${allowed.join(', ')})`, name);
  }
}

export function limitParam(url: URL): number {
  const v = query(url, 'limit');
  if (v === undefined) return DEFAULT_LIMIT;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) {
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`, 'limit');
  }
  return Number(v);
}

/** `limit` and `cursor` of a list endpoint (the cursor is checked by the store: a bad one is a 400). */
export function pageParams(url: URL): { limit: number; cursor?: string } {
  const limit = limitParam(url);
  const cursor = query(url, 'cursor');
  return cursor === undefined ? { limit } : { limit, cursor };
}

/** For lists kept in memory (lockouts): a cursor over a [number, string] sort key; a bad one is a 400. */
export const memoryCursor = {
  encode: (key: [number, string]): string => encodeCursor(key),
  decode(cursor: string): [number, string] {
    try {
      return decodeCursor(cursor, 'string');
    } catch (err) {
      throw err instanceof StoreQueryError ? new HttpError(400, err.message, err.param) : err;
    }
  },
};

export function boolParam(url: URL, name: string): boolean | undefined {
  const v = query(url, name);
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new HttpError(400, `${name} must be true or false`, name);
}

/**
 * A point in time: a duration back from now ("1h", "30m", "7d") or an ISO-8601 time.
 * Returns epoch ms; throws 400 naming `param`.
 */
export function parseSince(value: unknown, param: string, now = Date.now()): number {
  if (typeof value === 'string' && value !== '') {
    if (/^[0-9]+(ms|s|m|h|d)$/.test(value)) {
      try {
        return now - parseDuration(value);
      } catch {
        // too large: falls through to the message below
      }
    } else if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
      const t = Date.parse(value);
      if (Number.isFinite(t)) return t;
    }
  }
  throw new HttpError(400, `${param} must be a duration like 30m, 1h, 7d or an ISO time like 2026-11-20T10:00:00Z`, param);
}

export function ipParam(value: unknown, param: string): string {
  if (typeof value !== 'string' || isIP(value) === 0) throw new HttpError(400, `${param} must be an IPv4 or IPv6 address`, param);
  return value;
}

/** The JSON body as an object (an empty body is {}). */
export async function objectBody(r: { body(): Promise<unknown> }): Promise<Record<string, unknown>> {
  const body = await r.body();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object', 'body');
  return body as Record<string, unknown>;
}

export function optionalString(body: Record<string, unknown>, name: string, prefix = ''): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `${prefix}${name} must be a string`, `${prefix}${name}`);
  return v;
}

/** The revocation reason: ?reason= or {"reason": "…"} in the body. */
export async function reasonOf(r: { url: URL; body(): Promise<unknown> }, fallback: string): Promise<string> {
  const fromQuery = query(r.url, 'reason');
  if (fromQuery !== undefined) return fromQuery;
  const body = await objectBody(r);
  return optionalString(body, 'reason') ?? fallback;
}

/**
 * Runs a store call. A bad cursor (StoreQueryError) is a 400 naming the parameter; any other
 * failure means the audit store is unavailable: 503, so nobody mistakes it for an empty answer or a
 * success.
 */
export async function fromStore<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof StoreQueryError) throw new HttpError(400, err.message, err.param);
    throw new HttpError('service_unavailable', `audit store unavailable, could not ${what}: ${(err as Error).message}`);
  }
}

/**
 * Writes what the pipeline has queued so the admin sees the request that just happened. A failed
 * flush is not fatal here: the records stay queued, and the read that follows reports the store.
 */
export async function caughtUp(deps: AdminDeps): Promise<void> {
  await deps.flush().catch(() => undefined);
}

/** The app by name in the running config, or 404. */
export function knownApp(deps: AdminDeps, name: string, param = 'name') {
  const app = deps.config().apps.find((a) => a.name === name);
  if (!app) {
    const names = deps.config().apps.map((a) => a.name);
    throw new HttpError(404, `no app named "${name}" (configured: ${names.join(', ') || 'none'})`, param);
  }
  return app;
}

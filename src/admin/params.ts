// What the admin endpoints share past the router's checks (routes.ts declares the parameters): query
// values turned into numbers and times, body fields, and store failures as a 503 that says the audit
// store is unavailable (never a false success). Every bad parameter is a 400 naming it.
import { isIP } from 'node:net';
import { parseDuration } from '../config/duration.js';
import { decodeCursor, encodeCursor, StoreQueryError } from '../store/cursor.js';
import type { AdminDeps } from './deps.js';
import { HttpError } from './router.js';
import { DEFAULT_LIMIT, SINCE_MESSAGE } from './schemas.js';

export { DEFAULT_LIMIT, MAX_LIMIT } from './schemas.js';

/**
 * `limit` and `cursor` of a list endpoint, from a query the router has checked (routes.ts: `Limit`
 * allows only 1 to MAX_LIMIT). The cursor is checked by the store: a bad one is a 400.
 */
export function pageParams(q: { limit?: string; cursor?: string }): { limit: number; cursor?: string } {
  const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
  return q.cursor === undefined ? { limit } : { limit, cursor: q.cursor };
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

/** A checked boolean query value ('true', '1', 'false', '0'), or undefined when absent. */
export function boolParam(v: 'true' | 'false' | '1' | '0' | undefined): boolean | undefined {
  return v === undefined ? undefined : v === 'true' || v === '1';
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
  throw new HttpError(400, `${param} ${SINCE_MESSAGE}`, param);
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
export async function reasonOf(r: { query: { reason?: string }; body(): Promise<unknown> }, fallback: string): Promise<string> {
  const fromQuery = r.query.reason;
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

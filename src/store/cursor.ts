// Opaque page cursors shared by every store: base64url of a small JSON array holding the sort key
// of the last item returned (e.g. [last_seen_at, id]). Admins pass them back verbatim; anything
// that does not decode to the expected shape is a bad parameter (400), never a server error.

/** A query parameter the store cannot use; the admin API answers 400 naming `param`. */
export class StoreQueryError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreQueryError';
  }
}

export type CursorKey = [number, string] | [number, number] | [string];

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * Decodes a cursor whose second element is a string (`'string'`) or an integer (`'number'`), or
 * that is one string (`'key'`: e.g. [email]).
 */
export function decodeCursor(cursor: string, second: 'string'): [number, string];
export function decodeCursor(cursor: string, second: 'number'): [number, number];
export function decodeCursor(cursor: string, second: 'key'): [string];
export function decodeCursor(cursor: string, second: 'string' | 'number' | 'key'): CursorKey {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (second === 'key') {
    if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value as [string];
    throw new StoreQueryError('cursor', 'cursor is not a cursor returned by this API');
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !Number.isSafeInteger(value[0]) ||
    typeof value[1] !== second ||
    (second === 'number' && !Number.isSafeInteger(value[1]))
  ) {
    throw new StoreQueryError('cursor', 'cursor is not a cursor returned by this API');
  }
  return value as CursorKey;
}

export const MAX_PAGE = 1000;

/** Clamps a page size into 1..MAX_PAGE (the admin API validates first; this is a safety net). */
export function pageLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 50;
  return Math.min(MAX_PAGE, Math.max(1, Math.trunc(limit)));
}

/** Rows one page of a filtered list may read beyond its `limit`: what bounds a page's work. */
export const SCAN_SLACK = 1000;

/**
 * A page from rows read in key order (at most `scanned` of them, see SCAN_SLACK), of which only the
 * `usable` ones are items. The cursor goes on after the last item, or after the last row read when
 * the read stopped at its bound, so the next page never reads these rows again.
 */
export function scannedPage<R, T>(rows: readonly R[], limit: number, scanned: number, usable: (r: R) => boolean, item: (r: R) => T, key: (r: R) => CursorKey) {
  const items: T[] = [];
  let lastItem: R | undefined;
  for (const r of rows) {
    if (!usable(r)) continue;
    if (items.length === limit) return { items, nextCursor: encodeCursor(key(lastItem as R)) };
    items.push(item(r));
    lastItem = r;
  }
  const last = rows.at(-1);
  return { items, nextCursor: rows.length >= scanned && last !== undefined ? encodeCursor(key(last)) : null };
}

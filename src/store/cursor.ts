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

export type CursorKey = [number, string] | [number, number];

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor whose second element is a string (`'string'`) or an integer (`'number'`). */
export function decodeCursor(cursor: string, second: 'string'): [number, string];
export function decodeCursor(cursor: string, second: 'number'): [number, number];
export function decodeCursor(cursor: string, second: 'string' | 'number'): CursorKey {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
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

// Values that identical identities share. Thousands of cached identities carry the same groups
// list, the same `aud` and `iss` strings and the same amr list; each verified token would otherwise
// hold its own copies (JSON.parse makes fresh ones), which was most of a cache entry's heap. The
// pools are bounded and fill-only: once full, a value is simply not shared. Shared lists are frozen
// and registered in SHARED, so the cache's byte estimate (cache.ts) charges them to no entry; the
// pools' own size is bounded (MAX_LISTS × a list of at most MAX_LIST_ITEMS short strings, under
// 2 MiB worst case) and counted as fixed overhead, not per entry.

const MAX_LISTS = 1024;
const MAX_LIST_ITEMS = 32;
const MAX_LIST_CHARS = 256;
const MAX_STRINGS = 4096;
const MAX_STRING_CHARS = 256;

const lists = new Map<string, readonly string[]>();
const strings = new Map<string, string>();

/** Arrays shared between identities (never charged to one cache entry). */
export const SHARED: WeakSet<object> = new WeakSet();

export const EMPTY_LIST: readonly string[] = Object.freeze([]);
SHARED.add(EMPTY_LIST);

/**
 * The pooled, frozen copy of a list of strings (the same array for every identity with that list),
 * or the list itself when it holds anything but strings, is too long or the pool is full.
 */
export function sharedList(list: unknown[]): string[] {
  if (list.length === 0) return EMPTY_LIST as string[];
  if (list.length > MAX_LIST_ITEMS) return list as string[];
  let chars = 0;
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (typeof s !== 'string') return list as string[];
    chars += s.length;
  }
  if (chars > MAX_LIST_CHARS) return list as string[];
  // JSON is unambiguous where a joined string is not (['a,b'] vs ['a', 'b']).
  const key = JSON.stringify(list);
  const hit = lists.get(key);
  if (hit !== undefined) return hit as string[];
  if (lists.size >= MAX_LISTS) return list as string[];
  const shared = Object.freeze((list as string[]).slice());
  SHARED.add(shared);
  lists.set(key, shared);
  return shared as string[];
}

/** The pooled copy of a short string that many identities hold (an audience, an idp). */
export function sharedString(s: string): string {
  if (s.length > MAX_STRING_CHARS) return s;
  const hit = strings.get(s);
  if (hit !== undefined) return hit;
  if (strings.size < MAX_STRINGS) strings.set(s, s);
  return s;
}

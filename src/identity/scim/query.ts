// What the SCIM handlers share: the request and reply shapes, list parameters (filter,
// startIndex, count, §3.4.2), attribute projection (§3.9), ETag preconditions (§3.14) and the
// read-modify-write loop that never loses a concurrent update.
import type { ScimFilter, ScimList, ScimListQuery, ScimStore } from '../../store/scim-types.js';
import { invalidValue, notFound, ScimError } from './errors.js';
import { parseFilter, ScimSyntaxError } from './filter.js';
import { etag, LIST_URN, project, type Doc } from './resources.js';

export interface ScimRequest {
  method: string;
  url: URL;
  /** Path segments after /scim/v2, decoded. */
  segments: string[];
  /** Absolute base for `location` and `$ref`: http://host/scim/v2. */
  base: string;
  /** Who asked and this request's id (the event id every change it makes is recorded with). */
  event: ScimEvent;
  ifMatch: string | undefined;
  body(): Promise<unknown>;
}

export interface ScimReply {
  status: number;
  body?: Doc;
  etag?: string;
  location?: string;
}

export interface ScimEvent {
  /** `scim:<token name>`. */
  actor: string;
  /** A new UUID per request, answered as X-Request-Id. */
  id: string;
}

/** Effects on live sessions (effects.ts): what a user or membership change does to access. */
export interface ScimEffects {
  /** A user was created, replaced, patched (before → after) or deleted (after null). */
  userChanged(before: ScimUserSnapshot | null, after: ScimUserSnapshot | null, event: ScimEvent): Promise<void>;
  /** The SCIM group memberships of these users changed (ids of SCIM users). */
  membershipsChanged(userIds: string[], event: ScimEvent): Promise<void>;
}

export interface ScimUserSnapshot {
  id: string;
  userName: string;
  primaryEmail: string | null;
  active: boolean;
}

export interface ScimHandlerDeps {
  store: ScimStore;
  effects: ScimEffects;
}

export const MAX_COUNT = 200;
const DEFAULT_COUNT = 100;

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?[0-9]{1,9}$/.test(v)) throw invalidValue(name, 'must be an integer');
  return Number(v);
}

/** startIndex < 1 counts as 1 and a negative count as 0 (§3.4.2.4); count is capped at 200. */
export function listQuery(url: URL): ScimListQuery {
  const text = url.searchParams.get('filter');
  let filter: ScimFilter | undefined;
  if (text !== null && text.trim() !== '') {
    try {
      filter = parseFilter(text);
    } catch (err) {
      if (err instanceof ScimSyntaxError) throw ScimError.of('invalidFilter', `filter: ${err.message}`);
      throw err;
    }
  }
  const start = intParam(url, 'startIndex') ?? 1;
  const count = intParam(url, 'count') ?? DEFAULT_COUNT;
  return { ...(filter ? { filter } : {}), startIndex: Math.max(1, start), count: Math.min(MAX_COUNT, Math.max(0, count)) };
}

const listParam = (url: URL, name: string): string[] | null => {
  const v = url.searchParams.get(name);
  return v === null || v.trim() === '' ? null : v.split(',').map((s) => s.trim()).filter(Boolean);
};

/** The projection the request asks for (attributes / excludedAttributes). */
export function projection(url: URL): (doc: Doc) => Doc {
  const attributes = listParam(url, 'attributes');
  const excluded = listParam(url, 'excludedAttributes') ?? [];
  if (!attributes && excluded.length === 0) return (d) => d;
  return (d) => project(d, attributes, excluded);
}

/** Whether the projection keeps `attr` (so a group's members are not read when excluded). */
export function wants(url: URL, attr: string): boolean {
  const probe = projection(url)({ [attr]: true });
  return attr in probe;
}

/** A ListResponse (§3.4.2): one page from the store, each item rendered as its GET would be. */
export async function listReply<T>(r: ScimRequest, list: (q: ScimListQuery) => Promise<ScimList<T>>, render: (item: T) => Promise<ScimReply>): Promise<ScimReply> {
  const q = listQuery(r.url);
  const page = await list(q);
  const resources: Doc[] = [];
  for (const item of page.items) resources.push((await render(item)).body as Doc);
  return { status: 200, body: { schemas: [LIST_URN], totalResults: page.total, startIndex: q.startIndex, itemsPerPage: resources.length, Resources: resources } };
}

/** The resource, or 404 naming it. */
export async function found<T>(read: Promise<T | null>, kind: 'User' | 'Group', id: string): Promise<T> {
  const item = await read;
  if (!item) throw notFound(kind, id);
  return item;
}

/** If-Match (§3.14): `*` or the current ETag; otherwise 412. */
export function checkIfMatch(r: ScimRequest, version: number): void {
  if (r.ifMatch === undefined) return;
  const tags = r.ifMatch.split(',').map((t) => t.trim());
  if (!tags.includes('*') && !tags.includes(etag(version))) {
    throw ScimError.of('invalidVers', `If-Match: the resource is at version ${etag(version)}`);
  }
}

const MAX_ATTEMPTS = 5;

/**
 * Read, change, write only if nobody wrote in between (the version is the guard); on a race,
 * read again and redo the change. A concurrent PATCH is applied on top, never lost.
 */
export async function readModifyWrite<R, W>(
  read: () => Promise<R | null>,
  write: (current: R) => Promise<W | 'stale'>,
  notFound: () => ScimError,
): Promise<{ before: R; result: W }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const before = await read();
    if (!before) throw notFound();
    const result = await write(before);
    if (result !== 'stale') return { before, result };
  }
  throw new ScimError(409, 'the resource kept changing while it was being updated; retry');
}

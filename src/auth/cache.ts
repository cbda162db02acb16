// The verified-token cache: what makes authentication nearly free on the hot path. Keyed by a
// SHA-256 of the credential (never the credential itself, so a heap dump holds no usable token),
// holding only successes, each until min(exp, now + max_ttl). Bounded by entries AND by an estimate
// of bytes, so a flood of distinct valid tokens cannot grow memory past the configured bound.
import { createHash, hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../policy/types.js';
import { SHARED } from './intern.js';

export interface CacheOptions {
  maxEntries: number;
  maxBytes: number;
  maxTtlMs: number;
}


export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
}

/** Cache key of a bearer/cookie token: SHA-256, base64url (43 chars). */
export function tokenKey(token: string): string {
  // The one-shot crypto.hash skips the Hash object: half the cost of createHash on a hit.
  return hash('sha256', token, 'base64url');
}

/** Cache key of a service-token credential; a distinct prefix keeps it apart from token keys. */
export function serviceKey(clientId: string, secret: string): string {
  return 's:' + createHash('sha256').update(clientId).update('\0').update(secret).digest('base64url');
}

// What an entry costs the heap, as an UPPER bound, so that max_bytes bounds memory and not just an
// index. The figures are V8's on 64-bit Node without pointer compression (Node's default build),
// checked against real heap use by test/auth/cache-size.test.ts for ordinary and adversarial claim
// shapes (unique claim names per token, arrays of empty objects, doubles, two-byte strings, …) and
// by bench/cache-density.mjs for the token flood's identities.
//
// The claims are walked (string lengths, element and property counts) instead of serialised: no
// string is built. What identities share is charged to none of them: lists pooled by intern.ts
// (registered in SHARED), and the hidden class of a claims object whose property names an earlier
// entry already paid for (V8 gives every object with the same names in the same order one map).
// Strings an identity holds twice (its subject and the claims' `sub`: one string) are counted once.

/**
 * The LRU's bookkeeping per entry: its Map entry (≤ 56 bytes with the table grown by doubling) and
 * its slots, which lru-cache allocates for max_entries up front (key, value, next, prev, free, size,
 * ttl, start: 52 bytes).
 */
const ENTRY_OVERHEAD = 112;
/** The wrapper of an entry capped below its token's exp (max_ttl, a service token's lifetime). */
const CAPPED = 56;
/** The identity object itself: header and 14 in-object members (see identityFromClaims). */
const IDENTITY_OBJECT = 24 + 8 * 14;
/** A sequential string's header (map, hash, length); its characters are rounded up to 8 bytes. */
const STRING_HEADER = 16;
/** A non-Smi number is a 16-byte HeapNumber (the slot holding it is charged by its container). */
const HEAP_NUMBER = 16;
/** An array: its slot in the parent, the JSArray and the elements store's header; plus a slot per element. */
const ARRAY = 56;
/** An object: its slot, the JSObject, and a map + descriptor array of its own (unique claim names). */
const OBJECT = 192;
/** An object whose map is already paid for: its header (map, properties, elements). */
const OBJECT_HEADER = 24;
const EMPTY_OBJECT = 72;
/** A property: its slot, its descriptor and the transition map that adding it creates (or a dictionary entry). */
const PROPERTY = 80;
const SLOT = 8;
/** A property name: an internalized string, its string-table slot, charged as if two-byte. */
const NAME = 24;
/** Deeper than any sane claim set: charged as too big to cache. */
const MAX_DEPTH = 32;
const TOO_BIG = 2 ** 40;
/** Objects with more names than this may be dictionaries: always charged in full. */
const MAX_SHARED_SHAPE_KEYS = 32;
/** Property-name lists already paid for (bounded: beyond it every new shape is charged in full). */
const MAX_SHAPES = 1024;
const shapes = new Set<string>();

/** A character outside Latin-1: V8 then stores the whole string with two bytes per character. */
const TWO_BYTE = /[\u0100-\uffff]/;
const round8 = (n: number): number => (n + 7) & ~7;

/** A string's heap size: one byte per character when all are Latin-1, two otherwise. */
export function stringSize(s: string | undefined): number {
  if (s === undefined) return 0;
  return round8(STRING_HEADER + (TWO_BYTE.test(s) ? 2 * s.length : s.length));
}

/** The names joined (cheaper than JSON); null when a name holds the separator (never shared then). */
function shapeOf(keys: string[]): string | null {
  for (let i = 0; i < keys.length; i++) if (keys[i]!.includes('\0')) return null;
  return keys.join('\0');
}

function objectSize(o: Record<string, unknown>, depth: number): number {
  const keys = Object.keys(o);
  if (keys.length === 0) return EMPTY_OBJECT;
  let n = SLOT + OBJECT_HEADER + SLOT * keys.length;
  const shape = keys.length <= MAX_SHARED_SHAPE_KEYS ? shapeOf(keys) : null;
  if (shape === null || !shapes.has(shape)) {
    // The first entry with these names pays for the map they make (so does every entry past the bound).
    if (shape !== null && shapes.size < MAX_SHAPES) shapes.add(shape);
    n = OBJECT + PROPERTY * keys.length;
    for (let i = 0; i < keys.length; i++) n += NAME + 2 * keys[i]!.length;
  }
  for (let i = 0; i < keys.length; i++) n += valueSize(o[keys[i]!], depth + 1);
  return n;
}

function valueSize(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      return stringSize(v);
    case 'number':
      return (v | 0) === v && !Object.is(v, -0) ? 0 : HEAP_NUMBER;
    case 'object': {
      if (v === null || SHARED.has(v)) return 0;
      if (depth >= MAX_DEPTH) return TOO_BIG;
      if (Array.isArray(v)) {
        let n = ARRAY + SLOT * v.length;
        for (let i = 0; i < v.length; i++) n += valueSize(v[i], depth + 1);
        return n;
      }
      return objectSize(v as Record<string, unknown>, depth);
    }
    default:
      return 0;
  }
}

/** A string member of the identity, unless the claims hold the same one (identityFromClaims shares them). */
function ownString(s: string | undefined, c: Record<string, unknown>): number {
  if (s === undefined || s === c.sub || s === c.jti || s === c.email || s === c.name || s === c.idp || s === c.iss) return 0;
  return stringSize(s);
}

/**
 * An upper bound of the heap bytes one cache entry holds: the LRU's bookkeeping, the key, the
 * identity and everything it references that it does not share with other identities.
 */
export function estimateSize(key: string, identity: Identity): number {
  const c = identity.claims;
  let n = ENTRY_OVERHEAD + stringSize(key) + IDENTITY_OBJECT;
  n += ownString(identity.sessionId, c) + ownString(identity.subject, c) + ownString(identity.email, c) + ownString(identity.name, c);
  n += ownString(identity.idp, c) + ownString(identity.serviceToken, c);
  // identity.issuer is the issuer's configured string, shared by all its identities.
  n += valueSize(identity.groups, 0) + valueSize(identity.amr, 0) + valueSize(c, 0);
  // The claims' `iss` is the issuer's own string when it equals it (identityFromClaims swaps it in).
  if (typeof c.iss === 'string' && c.iss === identity.issuer) n -= stringSize(c.iss);
  return n;
}

/** An entry that must go before its identity's exp: the value stored then, instead of the identity itself. */
class Capped {
  constructor(
    readonly identity: Identity,
    /** Epoch ms after which the entry must not be served: < the token's exp. */
    readonly untilMs: number,
  ) {}
}

export class TokenCache {
  readonly options: CacheOptions;
  private readonly lru: LRUCache<string, Identity | Capped>;
  private counters = { hits: 0, misses: 0, evictions: 0 };

  constructor(options: CacheOptions) {
    this.options = { ...options };
    // No `max`: lru-cache would preallocate its key, value, link, size and TTL arrays for all
    // max_entries slots when the cache is made (100,000 by default: ~5 MiB in every process, before
    // the first token). The entry bound is kept by set() instead; the arrays grow with use.
    this.lru = new LRUCache<string, Identity | Capped>({
      maxSize: options.maxBytes,
      // An entry larger than the whole budget is simply not cached.
      maxEntrySize: options.maxBytes,
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') this.counters.evictions++;
      },
    });
  }

  /** The cached identity, or undefined. `now` guards against serving past exp whatever the LRU's clock says. */
  get(key: string, now: number): Identity | undefined {
    const entry = this.lru.get(key);
    if (entry === undefined) {
      this.counters.misses++;
      return undefined;
    }
    // Most entries are the identity itself, good until its exp (checked here, exactly, on every hit).
    let identity: Identity;
    let until: number;
    if (entry instanceof Capped) {
      identity = entry.identity;
      until = entry.untilMs;
    } else {
      identity = entry;
      until = entry.expiresAt * 1000;
    }
    if (until <= now) {
      this.lru.delete(key);
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    return identity;
  }

  /** Caches a verified identity until min(its exp, now + max_ttl); nothing when that is already past. */
  set(key: string, identity: Identity, now: number, notAfter = identity.expiresAt * 1000): void {
    const exp = identity.expiresAt * 1000;
    const until = Math.min(notAfter, exp, now + this.options.maxTtlMs);
    const ttl = Math.floor(until - now);
    if (!(ttl > 0)) return;
    const capped = until < exp;
    const size = estimateSize(key, identity) + (capped ? CAPPED : 0);
    this.lru.set(key, capped ? new Capped(identity, until) : identity, { ttl, size });
    // The least recently used entry goes (an 'evict', counted), as lru-cache's own `max` would do.
    if (this.lru.size > this.options.maxEntries) this.lru.pop();
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Drops every entry whose identity matches (on reload: removed service tokens, say). */
  deleteWhere(pred: (identity: Identity) => boolean): number {
    const doomed: string[] = [];
    for (const [key, entry] of this.lru.entries()) if (pred(entry instanceof Capped ? entry.identity : entry)) doomed.push(key);
    for (const key of doomed) this.lru.delete(key);
    return doomed.length;
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }

  stats(): CacheStats {
    return {
      ...this.counters,
      entries: this.lru.size,
      bytes: this.lru.calculatedSize,
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
    };
  }
}

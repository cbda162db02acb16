// The verified-token cache: what makes authentication nearly free on the hot path. Keyed by a
// SHA-256 of the credential (never the credential itself, so a heap dump holds no usable token),
// holding only successes, each until min(exp, now + max_ttl). Bounded by entries AND by an estimate
// of bytes, so a flood of distinct valid tokens cannot grow memory past the configured bound.
import { createHash, hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../policy/types.js';

export interface CacheOptions {
  maxEntries: number;
  maxBytes: number;
  maxTtlMs: number;
}

export interface CacheEntry {
  identity: Identity;
  /** Epoch ms after which the entry must not be served: ≤ the token's exp. */
  expiresAt: number;
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
// shapes (unique claim names per token, arrays of empty objects, doubles, two-byte strings, …).
//
// The claims are walked (string lengths, element and property counts) instead of serialised: no
// string is built, so it costs ~0.25 µs for a typical identity where JSON.stringify cost ~2.6 µs,
// and it is tighter. A length-only estimate (from the token) would be cheaper still, but the cache
// never sees the token, and to be an upper bound it would have to charge every token the densest
// JSON possible (`[{},{},…]`: ~16 heap bytes per base64url character), several times a typical
// token's real footprint.

/** The LRU's bookkeeping (its Map entry, grown by doubling), the entry object and its boxed expiresAt. */
const ENTRY_OVERHEAD = 160;
/** The identity object itself: one shape with every member present (see identityFromClaims). */
const IDENTITY_OBJECT = 192;
/** A string: header plus two bytes per character (a non-Latin-1 character makes the whole string two-byte). */
const STRING = 24;
/** A non-Smi number is a 16-byte HeapNumber (the slot holding it is charged by its container). */
const HEAP_NUMBER = 16;
/** An array: its slot in the parent, the JSArray and the elements store's header; plus a slot per element. */
const ARRAY = 56;
/** An object: its slot, the JSObject, and a map + descriptor array of its own (unique claim names). */
const OBJECT = 192;
const EMPTY_OBJECT = 72;
/** A property: its slot, its descriptor and the transition map that adding it creates (or a dictionary entry). */
const PROPERTY = 64;
const SLOT = 8;
/** Deeper than any sane claim set: charged as too big to cache. */
const MAX_DEPTH = 32;
const TOO_BIG = 2 ** 40;

const stringSize = (s: string | undefined): number => (s === undefined ? 0 : STRING + 2 * s.length);

function valueSize(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      return stringSize(v);
    case 'number':
      return (v | 0) === v && !Object.is(v, -0) ? 0 : HEAP_NUMBER;
    case 'object': {
      if (v === null) return 0;
      if (depth >= MAX_DEPTH) return TOO_BIG;
      if (Array.isArray(v)) {
        let n = ARRAY + SLOT * v.length;
        for (let i = 0; i < v.length; i++) n += valueSize(v[i], depth + 1);
        return n;
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 0) return EMPTY_OBJECT;
      let n = OBJECT + PROPERTY * keys.length;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        n += stringSize(k) + valueSize(o[k], depth + 1);
      }
      return n;
    }
    default:
      return 0;
  }
}

/**
 * An upper bound of the heap bytes one cache entry holds: the LRU's bookkeeping, the key, the
 * identity and everything it references (strings shared between the identity and its claims are
 * counted twice).
 */
export function estimateSize(key: string, identity: Identity): number {
  let n = ENTRY_OVERHEAD + STRING + key.length + IDENTITY_OBJECT;
  n += stringSize(identity.sessionId) + stringSize(identity.subject) + stringSize(identity.email) + stringSize(identity.name);
  n += stringSize(identity.idp) + stringSize(identity.issuer) + stringSize(identity.serviceToken);
  n += valueSize(identity.groups, 0) + valueSize(identity.amr, 0) + valueSize(identity.claims, 0);
  return n;
}

export class TokenCache {
  readonly options: CacheOptions;
  private readonly lru: LRUCache<string, CacheEntry>;
  private counters = { hits: 0, misses: 0, evictions: 0 };

  constructor(options: CacheOptions) {
    this.options = { ...options };
    this.lru = new LRUCache<string, CacheEntry>({
      max: options.maxEntries,
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
    if (entry.expiresAt <= now) {
      this.lru.delete(key);
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    return entry.identity;
  }

  /** Caches a verified identity until min(its exp, now + max_ttl); nothing when that is already past. */
  set(key: string, identity: Identity, now: number, notAfter = identity.expiresAt * 1000): void {
    const expiresAt = Math.min(notAfter, now + this.options.maxTtlMs);
    const ttl = Math.floor(expiresAt - now);
    if (!(ttl > 0)) return;
    this.lru.set(key, { identity, expiresAt }, { ttl, size: estimateSize(key, identity) });
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Drops every entry whose identity matches (on reload: removed service tokens, say). */
  deleteWhere(pred: (identity: Identity) => boolean): number {
    const doomed: string[] = [];
    for (const [key, entry] of this.lru.entries()) if (pred(entry.identity)) doomed.push(key);
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

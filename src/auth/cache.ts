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

// Per-entry overhead of the LRU's own bookkeeping, the entry object and the key string.
const ENTRY_OVERHEAD = 256;

/** A deliberately generous estimate of an entry's heap footprint (UTF-16 strings, object headers). */
export function estimateSize(key: string, identity: Identity): number {
  let json = 0;
  try {
    json = JSON.stringify(identity).length;
  } catch {
    json = 4096;
  }
  return ENTRY_OVERHEAD + 2 * key.length + 3 * json;
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

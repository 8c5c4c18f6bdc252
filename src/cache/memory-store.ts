/**
 * In-process CacheStore: an LRU bounded by bytes (lru-cache 11), with a TTL
 * per entry. Used when REDIS_URL is unset; state is per process.
 */
import { LRUCache } from 'lru-cache'
import { normaliseTtl } from './cache.ts'
import type { CacheStatus, CacheStore } from './cache.ts'

/** Rough per-entry bookkeeping cost (key object, node, timers) in bytes. */
const ENTRY_OVERHEAD = 64

export interface MemoryStoreOptions {
  /** Total bound for keys + values + overhead, in bytes. */
  maxBytes: number
  /** Largest single entry kept (default: maxBytes / 4), so one huge body cannot flush the cache. */
  maxEntryBytes?: number
}

export class MemoryStore implements CacheStore {
  readonly #lru: LRUCache<string, Buffer>

  constructor (opts: MemoryStoreOptions) {
    const maxSize = Math.max(1024, Math.floor(opts.maxBytes))
    this.#lru = new LRUCache<string, Buffer>({
      maxSize,
      maxEntrySize: Math.min(maxSize, opts.maxEntryBytes ?? Math.floor(maxSize / 4)),
      sizeCalculation: (value, key) => value.length + key.length * 2 + ENTRY_OVERHEAD,
      // Entries always carry their own TTL; this default only guards a forgotten one.
      ttl: 3600_000,
      updateAgeOnGet: false,
      allowStale: false,
    })
  }

  async get (key: string): Promise<Buffer | null> {
    return this.#lru.get(key) ?? null
  }

  async set (key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    // Copy so a caller reusing its buffer cannot change what is cached.
    this.#lru.set(key, Buffer.from(value), { ttl: normaliseTtl(ttlSeconds) * 1000 })
  }

  async del (key: string): Promise<void> {
    this.#lru.delete(key)
  }

  status (): CacheStatus {
    return { backend: 'memory', status: 'ok' }
  }

  /** Bytes currently accounted (for tests and metrics). */
  get calculatedSize (): number {
    return this.#lru.calculatedSize
  }

  async close (): Promise<void> {
    this.#lru.clear()
  }
}

/**
 * What the core needs from a cache (implemented in src/cache). Values are
 * account-scoped (keys carry a keyed hash of the account, content is
 * encrypted per account), so nothing read through one account's view can
 * come from another's.
 */
/** A value given as its length and its pieces, in order. */
export interface BufferPieces { length: number, pieces: () => Iterable<Buffer> }

export interface AccountCache {
  getJson: <T>(kind: string, parts: string[]) => Promise<T | null>
  setJson: (kind: string, parts: string[], value: unknown, ttlSeconds: number) => Promise<void>
  del: (kind: string, parts: string[]) => Promise<void>
  getBuffer: (kind: string, parts: string[]) => Promise<Buffer | null>
  /** A large value may come in pieces, never held whole (`pieces` may be called twice). */
  setBuffer: (kind: string, parts: string[], value: Buffer | BufferPieces, ttlSeconds: number) => Promise<void>
  /** Cache-through with single-flight; `ttlSeconds` is an upper bound. */
  rememberJson: <T>(kind: string, parts: string[], ttlSeconds: number, load: () => Promise<T>) => Promise<T>
}

export interface CachePort {
  forAccount: (accountId: string) => AccountCache
  status: () => { backend: 'redis' | 'memory', status: 'ok' | 'degraded' }
}

/**
 * Single-flight: concurrent calls for one key share one execution of `fn`.
 * The shared promise is forgotten as soon as it settles, so a failure is
 * shared by the callers that were waiting but never cached: the next call
 * runs `fn` again.
 */

export type SingleFlight<K, T> = (key: K, fn: () => Promise<T>) => Promise<T>

export interface SingleFlightGroup<K, T> extends SingleFlight<K, T> {
  /** Keys with a call in flight (for tests and metrics). */
  readonly inFlight: () => number
}

export function singleFlight<K, T> (): SingleFlightGroup<K, T> {
  const calls = new Map<K, Promise<T>>()
  const run = (key: K, fn: () => Promise<T>): Promise<T> => {
    const pending = calls.get(key)
    if (pending !== undefined) return pending
    let p: Promise<T>
    try {
      p = Promise.resolve(fn())
    } catch (err) {
      // A synchronous throw is shared like a rejection.
      p = Promise.reject(err)
    }
    const shared = p.finally(() => {
      if (calls.get(key) === shared) calls.delete(key)
    })
    calls.set(key, shared)
    return shared
  }
  return Object.assign(run, { inFlight: () => calls.size })
}

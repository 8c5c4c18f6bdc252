/**
 * Per-request message batcher. Every body field of every `Message` in one
 * request asks for its full message here; the ids asked for in the same turn of
 * the event loop go to the service in ONE `getMessages` call, which the service
 * turns into one upstream fetch per mailbox. Results are kept for the request.
 */
import type { Message } from '../mail/types.ts'
import type { GatewayError } from '../mail/errors.ts'

export type FetchMessages = (ids: string[]) => Promise<Array<Message | GatewayError>>

export interface MessageBatcher {
  /** Resolves to the message, or rejects with the per-id GatewayError. */
  load: (id: string) => Promise<Message>
}

interface Pending {
  resolve: (m: Message) => void
  reject: (err: unknown) => void
  promise: Promise<Message>
}

function deferred (): Pending {
  const out = {} as Pending
  out.promise = new Promise<Message>((resolve, reject) => { out.resolve = resolve; out.reject = reject })
  // A rejection nobody awaits (a sibling field already failed) must not crash the process.
  out.promise.catch(() => {})
  return out
}

export function createMessageBatcher (fetch: FetchMessages): MessageBatcher {
  const known = new Map<string, Pending>()
  let queued: string[] = []

  async function flush (): Promise<void> {
    const ids = queued
    queued = []
    try {
      const results = await fetch(ids)
      ids.forEach((id, i) => {
        const entry = known.get(id)
        const result = results[i]
        if (entry === undefined) return
        if (result === undefined) entry.reject(new Error(`getMessages returned no entry for index ${i}`))
        else if (result instanceof Error) entry.reject(result)
        else entry.resolve(result)
      })
    } catch (err) {
      for (const id of ids) known.get(id)?.reject(err)
    }
  }

  return {
    load (id) {
      const hit = known.get(id)
      if (hit !== undefined) return hit.promise
      const entry = deferred()
      known.set(id, entry)
      // setImmediate runs after every promise job and nextTick of this turn, so
      // sibling fields (text, html, …) of every message resolved in the same turn share one batch.
      if (queued.length === 0) setImmediate(() => { flush().catch(() => {}) })
      queued.push(id)
      return entry.promise
    },
  }
}

/**
 * Per-request message batcher. Every body field of every `Message` in one
 * request asks for its full message here; the ids asked for in the same turn of
 * the event loop go to the service in as few `getMessages` calls as their sizes
 * allow, which the service turns into one upstream fetch per mailbox. Results
 * are kept for the request.
 *
 * What the request keeps of each message is only what it can show: its bodies
 * cut at the largest maxBodyBytes asked for it (copies, so the whole bodies,
 * up to 2 MiB each, go as soon as the cut is made). And ids whose list sizes
 * add up to more than CALL_BYTES are fetched in several calls, one after the
 * other: a page of twelve 5.7 MB messages held twelve whole records, 48 MiB
 * of body text, at once; now it holds one whole record at a time.
 */
import { messageView } from '../mail/body-view.ts'
import type { Message } from '../mail/types.ts'
import type { GatewayError } from '../mail/errors.ts'

export type FetchMessages = (ids: string[]) => Promise<Array<Message | GatewayError>>

/** Message octets (RFC822.SIZE, as the list reported them) one getMessages call asks for at most; a larger message goes alone. */
export const CALL_BYTES = 4 * 1024 * 1024

export interface LoadHint {
  /** UTF-8 octets of each body the caller shows at most (its maxBodyBytes); 0: no body. Default: whole bodies. */
  cap?: number
  /** The message's size as the list reported it, if known. */
  size?: number | null
}

export interface MessageBatcher {
  /** Resolves to the message (bodies cut at `hint.cap`), or rejects with the per-id GatewayError. */
  load: (id: string, hint?: LoadHint) => Promise<Message>
}

interface Pending {
  resolve: (m: Message) => void
  reject: (err: unknown) => void
  promise: Promise<Message>
  /** The bodies this entry keeps: cut at this many octets each. */
  cap: number
  size: number
}

function deferred (cap: number, size: number): Pending {
  const out = { cap, size } as Pending
  out.promise = new Promise<Message>((resolve, reject) => { out.resolve = resolve; out.reject = reject })
  // A rejection nobody awaits (a sibling field already failed) must not crash the process.
  out.promise.catch(() => {})
  return out
}

/** Consecutive runs of `entries` whose sizes add up to at most CALL_BYTES (a larger one alone). */
function calls (entries: Array<[string, Pending]>): Array<Array<[string, Pending]>> {
  const out: Array<Array<[string, Pending]>> = []
  let bytes = Infinity
  for (const e of entries) {
    if (bytes + e[1].size > CALL_BYTES) {
      out.push([])
      bytes = 0
    }
    out.at(-1)!.push(e)
    bytes += e[1].size
  }
  return out
}

export function createMessageBatcher (fetch: FetchMessages): MessageBatcher {
  const known = new Map<string, Pending>()
  let queued = new Map<string, Pending>()

  async function fetchCall (call: Array<[string, Pending]>): Promise<void> {
    try {
      const results = await fetch(call.map(([id]) => id))
      call.forEach(([, entry], i) => {
        const result = results[i]
        if (result === undefined) entry.reject(new Error(`getMessages returned no entry for index ${i}`))
        else if (result instanceof Error) entry.reject(result)
        else entry.resolve(Number.isFinite(entry.cap) ? messageView(result, entry.cap).message : result)
      })
    } catch (err) {
      for (const [, entry] of call) entry.reject(err)
    }
  }

  async function flush (): Promise<void> {
    const entries = [...queued]
    queued = new Map()
    for (const call of calls(entries)) await fetchCall(call)
  }

  return {
    load (id, hint = {}) {
      const cap = hint.cap ?? Infinity
      const hit = known.get(id)
      if (hit !== undefined && (hit.cap >= cap || queued.get(id) === hit)) {
        hit.cap = Math.max(hit.cap, cap) // still queued: it keeps what every caller so far shows
        return hit.promise
      }
      // new, or kept cut shorter than this caller shows: fetched (again)
      const entry = deferred(cap, Math.max(0, hint.size ?? 0))
      known.set(id, entry)
      // setImmediate runs after every promise job and nextTick of this turn, so
      // sibling fields (text, html, …) of every message resolved in the same turn share one batch.
      if (queued.size === 0) setImmediate(() => { flush().catch(() => {}) })
      queued.set(id, entry)
      return entry.promise
    },
  }
}

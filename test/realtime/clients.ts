/**
 * Event subscribers as applications write them, for the end-to-end tests and
 * bench/events.ts: an SSE reader (fetch + the text/event-stream framing, with
 * Last-Event-ID) and a GraphQL subscriber (the graphql-ws client over `ws`).
 * Each calls `onEvent` with the parsed JSON event and stops with `close()`.
 */
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'

export interface EventJson { id: string, type: string, accountId: string, mailboxId: string | null, state: string | null, messageIds?: string[] | null, [k: string]: unknown }

export interface Subscriber {
  /** Resolves once the subscription is open (SSE: headers received; GraphQL: connection acknowledged). */
  ready: Promise<void>
  close: () => Promise<void>
}

export function sseSubscriber (base: string, token: string, onEvent: (e: EventJson) => void, opts: { query?: string, lastEventId?: string } = {}): Subscriber {
  const abort = new AbortController()
  let done: Promise<void> = Promise.resolve()
  const ready = (async () => {
    const res = await fetch(`${base}/v1/events${opts.query ?? ''}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(opts.lastEventId === undefined ? {} : { 'last-event-id': opts.lastEventId }) },
      signal: abort.signal,
    })
    if (res.status !== 200 || res.body === null) throw new Error(`GET /v1/events: ${res.status} ${await res.text()}`)
    const body = res.body
    done = (async () => {
      const decoder = new TextDecoder()
      let buffer = ''
      try {
        for await (const chunk of body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true })
          let end: number
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const frame = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = frame.split('\n').filter(l => l.startsWith('data:')).map(l => l.slice(5).trimStart()).join('\n')
            if (data !== '') onEvent(JSON.parse(data) as EventJson)
          }
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err
      }
    })()
  })()
  return {
    ready,
    close: async () => {
      abort.abort()
      await ready.catch(() => {})
      await done.catch(() => {})
    },
  }
}

export const EVENT_FIELDS = 'id type accountId mailboxId state at messageIds keywords { messageId keywords } code'

export function graphqlSubscriber (wsUrl: string, token: string, onEvent: (e: EventJson) => void, opts: { variables?: Record<string, unknown> } = {}): Subscriber {
  let connected: () => void = () => {}
  let failed: (err: unknown) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => { connected = resolve; failed = reject })
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    on: { connected: () => connected(), closed: (e) => failed(e) },
  })
  const stop = client.subscribe<{ mailboxEvents: EventJson }>({
    query: `subscription ($mailboxIds: [ID!], $types: [String!]) { mailboxEvents(mailboxIds: $mailboxIds, types: $types) { ${EVENT_FIELDS} } }`,
    variables: opts.variables ?? {},
  }, {
    next: (result) => { if (result.data != null) onEvent(result.data.mailboxEvents) },
    error: (err) => failed(err),
    complete: () => {},
  })
  return {
    ready,
    close: async () => {
      stop()
      await client.dispose()
    },
  }
}

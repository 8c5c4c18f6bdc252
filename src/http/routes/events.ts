/**
 * Events (contract §8): `GET /v1/events` (SSE, @fastify/sse) and `POST
 * /v1/events/tickets`. A stream subscribes to the account's events before
 * it replays what followed `Last-Event-ID`, so nothing falls between replay
 * and live delivery, and an event in both is written once.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { GatewayError } from '../../mail/errors.ts'
import type { MailEvent, Realtime } from '../../mail/events.ts'
import type { MailServiceApi } from '../../mail/service-types.ts'
import { EventStream, type SseSink } from '../../events/sse-stream.ts'
import { EventStreams } from '../../events/sse-streams.ts'
import { resetEvent, resumeAfter, streamFilter, type EventsQuery } from '../../events/sse-request.ts'
import { Tickets } from '../../events/tickets.ts'
import { TokenLifetimes } from '../../mail/token-lifetimes.ts'
import { bearerToken, callerOf } from '../auth.ts'
import { operation } from '../operation.ts'
import type { HttpDeps } from '../operation.ts'

/** The `retry:` hint (ms) a stream ended by shutdown carries: reconnect to another instance soon. */
export const SHUTDOWN_RETRY_MS = 1000
function sinkOf (reply: FastifyReply): SseSink {
  return {
    send: async (message) => { await reply.sse.send(message) },
    write: (text) => {
      reply.sse.sendHeaders()
      reply.raw.write(text)
    },
    close: () => { reply.sse.close() },
    get isConnected () { return reply.sse.isConnected },
  }
}

/** A service composed without real time (a test's fake) serves the routes as 422. */
const noRealtime: Realtime = {
  events: { publish: async () => {}, subscribe: () => ({ close: () => {} }), replayAfter: async () => ({ found: false }), close: async () => {} },
  watching: { acquire: async () => { throw new GatewayError('unsupported', 'events are not available on this gateway') }, close: async () => {} },
  tickets: { put: async () => {}, take: async () => null },
}

export function eventRoutes (app: FastifyInstance, { service, config, doc }: HttpDeps): void {
  const realtime = service.realtime ?? noRealtime
  const tickets = new Tickets(realtime.tickets)
  const streams = new EventStreams(config.eventsMaxStreams)
  // a test's fake service has no lifetimes: then only expiry ends a stream
  const lifetimes = service.lifetimes ?? new TokenLifetimes(async () => false, 0)
  // before the server stops waiting for requests: streams never finish by themselves
  app.addHook('preClose', async () => { streams.closeAll('shutdown', SHUTDOWN_RETRY_MS) })

  operation(app, doc, 'POST', '/v1/events/tickets', async (request, reply) => {
    const grant = await tickets.issue(callerOf(request), bearerToken(request.headers.authorization))
    return reply.code(201).header('cache-control', 'no-store').send(grant)
  })

  operation<{ Querystring: EventsQuery }>(app, doc, 'GET', '/v1/events', async (request, reply) => {
    const { ticket } = request.query
    const token = ticket !== undefined ? await tickets.redeem(ticket) : bearerToken(request.headers.authorization)
    const caller = await service.authenticate(token)
    const filter = streamFilter(caller, request.query)
    const lastEventId = resumeAfter(request.headers['last-event-id'], request.query.lastEventId)
    await openStream(reply, realtime, { streams, lifetimes, perToken: config.eventsSubscribersPerToken }, { caller, filter, lastEventId, bufferBytes: config.eventsStreamBufferBytes })
  }, { sse: { kind: 'manual' }, exposeHeadRoute: false })
}

/** What a stream is counted in and ended by, besides its own client. */
interface StreamHolders {
  streams: EventStreams
  lifetimes: TokenLifetimes
  /** EVENTS_SUBSCRIBERS_PER_TOKEN: SSE streams and GraphQL subscriptions of one token together. */
  perToken: number
}

interface StreamRequest {
  caller: Awaited<ReturnType<MailServiceApi['authenticate']>>
  filter: ReturnType<typeof streamFilter>
  lastEventId: string | null
  bufferBytes: number
}

async function openStream (reply: FastifyReply, realtime: Realtime, holders: StreamHolders, req: StreamRequest): Promise<void> {
  const { caller, lastEventId } = req
  const stream = new EventStream(sinkOf(reply), req.filter, req.bufferBytes)
  const releaseSlot = holders.lifetimes.claim(caller, holders.perToken)
  try {
    holders.streams.add(stream)
  } catch (err) {
    releaseSlot()
    throw err
  }
  const cleanup: Array<() => void> = [releaseSlot]
  stream.onClose(() => { for (const fn of cleanup.splice(0)) fn() })
  // a revocation (here at once, elsewhere within the recheck) or the token's expiry ends the stream
  cleanup.push(holders.lifetimes.watch(caller, (why) => { stream.end(why === 'expired' ? 'token-expired' : 'token-revoked') }))
  try {
    const handle = await realtime.watching.acquire(caller)
    cleanup.push(() => { handle.release() })
    // live events wait here until the replay is written
    let pending: MailEvent[] | null = []
    const subscription = realtime.events.subscribe(caller.account.id, (event) => {
      if (pending === null) stream.push(event)
      else if (pending.length < 10_000) pending.push(event)
      else stream.end('slow-consumer')
    })
    cleanup.push(() => { subscription.close() })
    const replay = lastEventId === null ? null : await realtime.events.replayAfter(caller.account.id, lastEventId)
    // ended before it started (revoked, shutting down, a flood while replaying): say why, as a problem
    if (stream.closed) throw stream.reason === 'token-revoked' || stream.reason === 'token-expired' ? new GatewayError('unauthorized', 'token revoked') : new GatewayError('unavailable', 'the stream could not start; retry', { retryAfter: 1 })
    reply.sse.onClose(() => { stream.end('client-gone') })
    reply.sse.keepAlive()
    reply.sse.sendHeaders(200)
    // writeHead alone leaves the headers in Node's buffer until the first body byte — the
    // first heartbeat, up to EVENTS_HEARTBEAT_MS later: an EventSource would not open until then
    reply.raw.flushHeaders()
    const written = new Set<string>()
    if (replay?.found === false && lastEventId !== null) stream.reset(resetEvent(caller.account.id, lastEventId))
    for (const event of replay?.found === true ? replay.events : []) {
      written.add(event.id)
      stream.push(event)
    }
    for (const event of pending) if (!written.has(event.id)) stream.push(event)
    pending = null
  } catch (err) {
    stream.end('client-gone')
    throw err
  }
}

/**
 * GraphQL subscriptions (contract §8) over WebSocket at /graphql, protocol
 * `graphql-transport-ws`: mercurius' `subscription` option, with the events
 * read from our EventBus by the resolver (resolvers/subscription.ts), not
 * through mercurius' emitter, so that filtering, bounds and at-most-once
 * delivery are ours. Each socket passes through a SubscriberConnection
 * (connection.ts: authentication at connection_init, close codes, document
 * checks, token expiry and revocation).
 */
import type { FastifyInstance } from 'fastify'
import fastifyWebsocket, { type WebsocketHandler } from '@fastify/websocket'
import type { GraphQLSchema } from 'graphql'
import type { WebSocket } from 'ws'
import type { EventBus } from '../../mail/events.ts'
import type { MailServiceApi } from '../../mail/service-types.ts'
import type { TokenLifetimes } from '../../mail/token-lifetimes.ts'
import type { Watching } from '../../mail/watch-port.ts'
import { MAX_QUERY_CHARS } from '../document-bounds.ts'
import type { GraphqlLimits } from '../limits.ts'
import { CloseCode, SubscriberConnection } from './connection.ts'
import { subscribeCheck } from './subscribe-check.ts'

export const PROTOCOL = 'graphql-transport-ws'

export interface RealtimeOptions {
  bus: EventBus
  watching: Watching
  /** SSE streams and GraphQL subscriptions of one token together (EVENTS_SUBSCRIBERS_PER_TOKEN). */
  subscribersPerToken: number
  /** Open WebSockets at /graphql on this instance (GRAPHQL_WS_MAX_CONNECTIONS). */
  maxConnections: number
  /** Events held for a subscriber that reads slowly before they are dropped for a `stream.reset`. */
  queueEvents?: number
  /** A `ping` this often keeps proxies from closing an idle socket (ms). */
  keepAliveMs?: number
}

/** What a subscription's resolvers get in their context. */
export interface SubscriberContext {
  connection: SubscriberConnection
  realtime: Required<RealtimeOptions> & { lifetimes: TokenLifetimes }
}

declare module 'mercurius' {
  interface MercuriusContext {
    /** Over the WebSocket only. */
    subscriber?: SubscriberContext
  }
}

export const DEFAULT_QUEUE_EVENTS = 100
const DEFAULT_KEEP_ALIVE_MS = 20_000
/** A subscribe message is a document plus variables: the document's bound and room for the rest. */
const MAX_MESSAGE_BYTES = MAX_QUERY_CHARS + 16 * 1024

/**
 * Sets up the WebSocket side in the GraphQL scope (before mercurius is
 * registered there) and returns mercurius' `subscription` option.
 */
export async function registerSubscriptions (scope: FastifyInstance, opts: {
  service: MailServiceApi
  realtime: RealtimeOptions
  limits: GraphqlLimits
  schema: () => GraphQLSchema
}): Promise<object> {
  const lifetimes = opts.service.lifetimes
  if (lifetimes === undefined) throw new Error('GraphQL subscriptions need the service\'s token lifetimes')
  const realtime = { queueEvents: DEFAULT_QUEUE_EVENTS, keepAliveMs: DEFAULT_KEEP_ALIVE_MS, ...opts.realtime, lifetimes }
  const checkDocument = subscribeCheck(opts.schema, opts.limits)
  const open = new Set<SubscriberConnection>()
  const connections = new WeakMap<object, SubscriberConnection>()

  const guard = (handler: WebsocketHandler): WebsocketHandler => function (this: FastifyInstance, ws, request) {
    if (open.size >= realtime.maxConnections) {
      ws.close(CloseCode.TryAgainLater, 'Too many connections')
      return
    }
    const connection: SubscriberConnection = new SubscriberConnection(ws, {
      service: opts.service,
      lifetimes,
      checkDocument,
      onClosed: () => open.delete(connection),
      log: scope.log,
    })
    open.add(connection)
    connections.set(connection.socket, connection)
    return handler.call(this, connection.socket as unknown as WebSocket, request)
  }
  // mercurius' WebSocket route: every socket goes through a SubscriberConnection
  scope.addHook('onRoute', (route) => {
    if (route.wsHandler !== undefined) route.wsHandler = guard(route.wsHandler)
  })
  // ends every socket with "going away" on shutdown, before the pools close (runs
  // before @fastify/websocket's own preClose, which closes them without a code)
  scope.addHook('preClose', (done) => {
    for (const connection of open) connection.close(CloseCode.GoingAway, 'Server shutting down')
    done()
  })
  await scope.register(fastifyWebsocket, {
    options: {
      maxPayload: MAX_MESSAGE_BYTES,
      // graphql-transport-ws only: mercurius also speaks the legacy `graphql-ws`
      handleProtocols: (protocols: Set<string>) => protocols.has(PROTOCOL) ? PROTOCOL : false,
    },
  })

  return {
    // the resolver reads the bus; mercurius' own pubsub is never used
    pubsub: {
      subscribe: async () => { throw new Error('mailboxEvents reads the event bus') },
      publish: (_event: unknown, done: (err?: Error) => void) => { done(new Error('mailboxEvents reads the event bus')) },
    },
    context: (socket: object): { subscriber?: SubscriberContext } => {
      const connection = connections.get(socket)
      return connection === undefined ? {} : { subscriber: { connection, realtime } }
    },
    keepAlive: realtime.keepAliveMs,
  }
}

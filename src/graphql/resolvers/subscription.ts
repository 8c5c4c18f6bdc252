/**
 * Subscription.mailboxEvents: the caller's account's events from the bus,
 * filtered as SSE filters them (mail/event-filter.ts), while the account is
 * watched (a Watching handle) and within the per-token subscriber cap. A
 * refusal (bad filter, cap, an account that cannot be watched) becomes a
 * `next` with the error, then `complete` (event-queue.ts).
 */
import { GatewayError } from '../../mail/errors.ts'
import { matchesFilter, parseEventFilter } from '../../mail/event-filter.ts'
import type { MailEvent } from '../../mail/events.ts'
import type { MailEventResolvers, SubscriptionResolvers } from '../generated.ts'
import { EventQueue, Refusal, type QueueItem } from '../subscriptions/event-queue.ts'

export const Subscription: SubscriptionResolvers = {
  mailboxEvents: {
    subscribe: async (_root, args, context) => {
      const subscriber = context.subscriber
      if (subscriber === undefined) return EventQueue.refused(new GatewayError('unauthorized', 'subscriptions run over the WebSocket at /graphql'))
      const { connection, realtime } = subscriber
      const caller = connection.caller
      const releases: Array<() => void> = []
      const release = (): void => { for (const r of releases.splice(0).reverse()) r() }
      try {
        const filter = parseEventFilter(caller.account.id, args)
        releases.push(realtime.lifetimes.claim(caller, realtime.subscribersPerToken))
        const handle = await realtime.watching.acquire(caller)
        releases.push(() => handle.release())
        const queue = new EventQueue(caller.account.id, realtime.queueEvents, release)
        const subscription = realtime.bus.subscribe(caller.account.id, (event) => {
          if (matchesFilter(filter, event)) queue.push(event)
        })
        releases.push(() => subscription.close())
        return queue
      } catch (err) {
        release()
        return EventQueue.refused(err as Error)
      }
    },
    resolve: (item: QueueItem): MailEvent => {
      if (item instanceof Refusal) throw item.reason
      return item
    },
  },
}

export const MailEventType: MailEventResolvers = {
  mailboxId: (event) => event.mailboxId,
  state: (event) => event.state,
  messageIds: (event) => event.messageIds ?? null,
  keywords: (event) => event.keywords === undefined ? null : Object.entries(event.keywords).map(([messageId, keywords]) => ({ messageId, keywords })),
  code: (event) => event.code ?? null,
}

/**
 * One subscription's events between the bus and the socket: an async
 * iterator (what graphql-js' `subscribe` reads) with a bounded buffer.
 * Delivery is at most once (contract §8): when a subscriber reads too slowly
 * and `max` events wait, they are dropped and replaced by one `stream.reset`,
 * so memory stays bounded and the subscriber knows to resync with `changes`.
 *
 * A subscription refused after the document was accepted (a bad filter, the
 * per-token cap) is a queue holding one Refusal: graphql-js resolves it into
 * a `next` carrying the error, then the operation completes (what the
 * graphql-ws reference server does for an error in a subscribe resolver).
 */
import { eventId, type MailEvent } from '../../mail/events.ts'

export class Refusal {
  constructor (readonly reason: Error) {}
}

export type QueueItem = MailEvent | Refusal

export class EventQueue implements AsyncIterableIterator<QueueItem> {
  #items: QueueItem[] = []
  #waiting: ((result: IteratorResult<QueueItem>) => void) | null = null
  #done = false
  #onClose: (() => void) | null

  /**
   * @param accountId the subscriber's account, for the `stream.reset` event
   * @param max events held for a slow reader before they are dropped
   * @param onClose runs once when the subscription ends (release the bus listener, the watch handle, …)
   */
  constructor (private readonly accountId: string, private readonly max: number, onClose: () => void) {
    this.#onClose = onClose
  }

  static refused (reason: Error): EventQueue {
    const queue = new EventQueue('', 1, () => {})
    queue.#items.push(new Refusal(reason))
    queue.#done = true
    return queue
  }

  /** Called by the bus listener: never throws, never blocks. */
  push (event: MailEvent): void {
    if (this.#done) return
    if (this.#waiting !== null) {
      const resolve = this.#waiting
      this.#waiting = null
      resolve({ value: event, done: false })
      return
    }
    if (this.#items.length >= this.max) {
      const first = this.#items[0]
      const dropped = first instanceof Refusal || first === undefined ? null : first.id
      this.#items = [this.#reset(dropped, event.id)]
    }
    this.#items.push(event)
  }

  /** Events waiting to be sent (tests, stats). */
  get length (): number {
    return this.#items.length
  }

  async next (): Promise<IteratorResult<QueueItem>> {
    const item = this.#items.shift()
    if (item !== undefined) return { value: item, done: false }
    if (this.#done) return { value: undefined, done: true }
    return await new Promise(resolve => { this.#waiting = resolve })
  }

  async return (): Promise<IteratorResult<QueueItem>> {
    this.close()
    return { value: undefined, done: true }
  }

  /** Ends the subscription: releases what it holds, wakes a waiting reader. Idempotent. */
  close (): void {
    this.#done = true
    this.#items = []
    const waiting = this.#waiting
    this.#waiting = null
    waiting?.({ value: undefined, done: true })
    const onClose = this.#onClose
    this.#onClose = null
    onClose?.()
  }

  [Symbol.asyncIterator] (): this {
    return this
  }

  #reset (firstDropped: string | null, next: string): MailEvent {
    return {
      id: eventId({ accountId: this.accountId, mailboxId: null, type: 'stream.reset', before: firstDropped, after: next }),
      type: 'stream.reset',
      accountId: this.accountId,
      mailboxId: null,
      state: null,
      at: new Date().toISOString(),
    }
  }
}

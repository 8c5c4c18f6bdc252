/**
 * The delivery worker: Redis Streams, one stream per webhook with one
 * consumer group. Every instance runs one; a webhook's queue is drained by
 * one instance at a time (a lease per webhook), head first, so deliveries
 * stay in order per webhook, and each instance drains at most `concurrency`
 * webhooks at once, so one slow endpoint holds one slot and never delays
 * another webhook's deliveries.
 *
 * A drain takes the head entry (XAUTOCLAIM first: an entry a dead instance
 * had read is still pending, and the lease says that instance is gone;
 * then XREADGROUP), posts it, and on 2xx acknowledges and deletes it
 * (XACK + XDEL). A failure leaves it pending and sets the webhook's next
 * due time in `wh-due` (exponential backoff); past the retry window it is
 * dropped and counted. 410 disables the webhook and empties its queue.
 * Before each drain the webhook's token is opened again: a revoked or
 * expired token ends the webhook and drops what was queued.
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { GatewayError } from '../mail/errors.ts'
import type { Leases, Lease } from '../mail/lease-port.ts'
import { expired, retryDelayMs, verdictOf, type RetryPolicy } from '../mail/webhook-retry.ts'
import type { Authenticate, WebhookRecord } from '../mail/webhooks-types.ts'
import type { MetricsPort } from '../metrics/port.ts'
import { countersKey, GROUP, parseRef, streamKey, type RedisWebhookStore } from './redis-store.ts'
import type { Sender } from './sender.ts'

export interface WorkerLogger {
  warn: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
}

export interface WorkerOptions {
  store: RedisWebhookStore
  leases: Leases
  sender: Sender
  authenticate: Authenticate
  policy: RetryPolicy
  /** Webhooks drained at once by this instance (WEBHOOK_CONCURRENCY). */
  concurrency: number
  /** How often due queues are looked for (ms). */
  pollMs: number
  /** A drain's lease (ms): longer than one delivery's timeout; renewed after each delivery. */
  leaseMs: number
  logger: WorkerLogger
  metrics: MetricsPort
}

/** Deliveries in one drain before the queue goes back to the due set (fairness across instances). */
const DRAIN_BATCH = 100

interface Entry { id: string, body: string }

type StreamEntries = Array<[string, string[] | null]>

export class DeliveryWorker {
  readonly #client: Redis
  readonly #due: string
  readonly #consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`
  readonly #draining = new Map<string, Promise<void>>()
  readonly #outcomes
  readonly #latency
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor (private readonly opts: WorkerOptions) {
    this.#client = opts.store.client
    this.#due = opts.store.dueKey
    this.#outcomes = opts.metrics.counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered (2xx), failed (retried later), dropped (past the retry window or over the queue bound), disabled (410 Gone), ended (token revoked or expired).',
      labels: ['outcome'],
    })
    this.#latency = opts.metrics.histogram({
      name: 'webhook_delivery_lag_seconds',
      help: 'From an event being queued for a webhook to its successful delivery.',
      labels: [],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
    })
  }

  start (): void {
    const loop = (): void => {
      if (this.#closed) return
      this.#tick().catch((err: unknown) => { this.opts.logger.warn({ err }, 'webhook queues could not be read; retrying') })
        .finally(() => { if (!this.#closed) this.#timer = setTimeout(loop, this.opts.pollMs) })
    }
    loop()
  }

  async #tick (): Promise<void> {
    const free = this.opts.concurrency - this.#draining.size
    if (free <= 0) return
    const due = await this.#client.zrangebyscore(this.#due, '-inf', Date.now(), 'LIMIT', 0, free + this.#draining.size)
    for (const ref of due) {
      if (this.#closed || this.#draining.size >= this.opts.concurrency) return
      if (this.#draining.has(ref)) continue
      const lease = await this.opts.leases.tryAcquire(`webhooks-deliver:${ref}`, this.opts.leaseMs)
      if (lease === null) continue
      const drain = this.#drain(ref, lease)
        .catch((err: unknown) => { this.opts.logger.warn({ err }, 'webhook delivery failed unexpectedly') })
        .finally(() => { this.#draining.delete(ref); lease.release().catch(() => {}) })
      this.#draining.set(ref, drain)
    }
  }

  async #drain (ref: string, lease: Lease): Promise<void> {
    const parsed = parseRef(ref)
    const record = parsed === null ? null : await this.opts.store.byRef(parsed.tag, parsed.id)
    if (parsed === null || record === null) {
      await this.#client.zrem(this.#due, ref)
      return
    }
    const { tag, id } = parsed
    if (!await this.#tokenLive(record, tag)) return
    if (record.status === 'disabled') {
      await this.#empty(tag, id, ref)
      return
    }
    for (let n = 0; n < DRAIN_BATCH && !this.#closed; n++) {
      const entry = await this.#head(tag, id)
      if (entry === null) {
        await this.#idle(tag, id, ref)
        return
      }
      const result = await this.opts.sender.send(record, eventIdOf(entry), entry.body)
      const verdict = verdictOf(result.status)
      if (verdict === 'delivered') {
        await this.#ack(tag, id, entry)
        this.#outcomes.inc({ outcome: 'delivered' })
        this.#latency.observe({}, Math.max(0, Date.now() - queuedAt(entry)) / 1000)
        if (!await lease.renew()) return
        continue
      }
      if (verdict === 'gone') {
        await this.opts.store.update({ ...record, status: 'disabled', disabledReason: 'the endpoint answered 410 Gone' })
        await this.#empty(tag, id, ref)
        this.#outcomes.inc({ outcome: 'disabled' })
        this.opts.logger.info({ webhook: id }, 'webhook disabled: the endpoint answered 410 Gone')
        return
      }
      const failures = await this.#client.hincrby(countersKey(tag, id), 'attempts', 1)
      const now = Date.now()
      if (expired(queuedAt(entry), now, this.opts.policy)) {
        await this.#ack(tag, id, entry)
        await this.#client.hincrby(countersKey(tag, id), 'dead', 1)
        this.#outcomes.inc({ outcome: 'dropped' })
        continue
      }
      this.#outcomes.inc({ outcome: 'failed' })
      this.opts.logger.info({ webhook: id, status: result.status, error: result.error, failures }, 'webhook delivery failed; retrying later')
      await this.#client.zadd(this.#due, now + retryDelayMs(failures, this.opts.policy), ref)
      return
    }
    // more to do: back in the due set, for whichever instance comes first
    await this.#client.zadd(this.#due, Date.now(), ref)
  }

  /** False (and the webhook ended with its queue) once its token was revoked or expired. */
  async #tokenLive (record: WebhookRecord, tag: string): Promise<boolean> {
    try {
      await this.opts.authenticate(record.token)
      return true
    } catch (err) {
      if (!(err instanceof GatewayError && err.code === 'unauthorized')) throw err
      await this.opts.store.removeByRef(tag, record.id)
      this.#outcomes.inc({ outcome: 'ended' })
      return false
    }
  }

  async #head (tag: string, id: string): Promise<Entry | null> {
    const stream = streamKey(tag, id)
    const claimed = await this.#client.xautoclaim(stream, GROUP, this.#consumer, 0, '0-0', 'COUNT', 1) as [string, StreamEntries, string[]?]
    const first = claimed[1][0] ?? await this.#readNew(stream)
    if (first === null || first === undefined) return null
    const [entryId, fields] = first
    if (fields === null) {
      // deleted while pending: nothing to deliver
      await this.#client.xack(stream, GROUP, entryId)
      return await this.#head(tag, id)
    }
    return { id: entryId, body: fields[1] ?? '{}' }
  }

  async #readNew (stream: string): Promise<[string, string[] | null] | null> {
    const read = await this.#client.xreadgroup('GROUP', GROUP, this.#consumer, 'COUNT', 1, 'STREAMS', stream, '>') as Array<[string, StreamEntries]> | null
    return read?.[0]?.[1][0] ?? null
  }

  async #ack (tag: string, id: string, entry: Entry): Promise<void> {
    const stream = streamKey(tag, id)
    await this.#client.multi().xack(stream, GROUP, entry.id).xdel(stream, entry.id).hdel(countersKey(tag, id), 'attempts').exec()
  }

  /** Nothing left: out of the due set, unless an entry was added meanwhile. */
  async #idle (tag: string, id: string, ref: string): Promise<void> {
    await this.#client.zrem(this.#due, ref)
    if (await this.#client.xlen(streamKey(tag, id)) > 0) await this.#client.zadd(this.#due, Date.now(), ref)
  }

  /** A disabled webhook's queue: emptied (its consumer group kept, for a later enqueue). */
  async #empty (tag: string, id: string, ref: string): Promise<void> {
    const stream = streamKey(tag, id)
    await this.#client.multi().xtrim(stream, 'MAXLEN', 0).hdel(countersKey(tag, id), 'attempts').exec()
    // pending entries of the group are gone with the trim; XAUTOCLAIM reports them as deleted
    await this.#client.zrem(this.#due, ref)
  }

  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    await Promise.allSettled([...this.#draining.values()])
  }
}

function eventIdOf (entry: Entry): string {
  try {
    const id = (JSON.parse(entry.body) as { id?: unknown }).id
    return typeof id === 'string' ? id : entry.id
  } catch {
    return entry.id
  }
}

/** A stream id is `<ms>-<seq>` on Redis time: when the entry was queued. */
function queuedAt (entry: Entry): number {
  return Number(entry.id.slice(0, entry.id.indexOf('-')))
}

/**
 * Webhook registrations (contract §9): create, list, read, delete, renew and
 * test. A webhook keeps the token that created it (sealed at rest by the
 * store), lives at most as long as that token and ends when it is revoked;
 * renewing with a newer token of the same account extends it.
 */
import { randomBytes } from 'node:crypto'
import { GatewayError } from './errors.ts'
import { EVENT_TYPES, isEventType, type MailEventType } from './events.ts'
import type { Caller } from './service-types.ts'
import {
  WEBHOOK_TEST_TYPE, type CreatedWebhook, type CreateWebhookInput, type Webhook, type WebhookRecord,
  type WebhookStore, type WebhookUrlCheck,
} from './webhooks-types.ts'

export interface WebhookLimits {
  /** Registrations per account. */
  maxPerAccount: number
  /** http:// targets accepted (tests, private deployments); else https only. */
  allowHttp: boolean
}

/** Longest URL accepted. */
export const MAX_WEBHOOK_URL_CHARS = 2048
/** Most mailbox ids one webhook may filter on. */
export const MAX_WEBHOOK_MAILBOXES = 100
/** Random bytes in a secret (Standard Webhooks: 24–64). */
const SECRET_BYTES = 32

function bad (detail: string): never {
  throw new GatewayError('bad-request', detail)
}

function parseUrl (raw: unknown, allowHttp: boolean): URL {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_WEBHOOK_URL_CHARS) bad(`url must be a string of 1–${MAX_WEBHOOK_URL_CHARS} characters`)
  let url: URL
  try {
    url = new URL(raw as string)
  } catch {
    return bad('url must be an absolute URL')
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) bad(allowHttp ? 'url must be http or https' : 'url must be https')
  // credentials in a URL would be stored and logged with it
  if (url.username !== '' || url.password !== '') bad('url must not carry credentials')
  url.hash = ''
  return url
}

function parseTypes (raw: unknown): MailEventType[] {
  if (raw === undefined) return [...EVENT_TYPES]
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > EVENT_TYPES.length) bad('types must be a non-empty list of event types')
  const types = new Set<MailEventType>()
  for (const t of raw as unknown[]) {
    if (typeof t !== 'string' || !isEventType(t)) bad(`types: unknown event type; one of ${EVENT_TYPES.join(', ')}`)
    types.add(t as MailEventType)
  }
  return [...types]
}

function parseMailboxIds (raw: unknown): string[] | null {
  if (raw === undefined || raw === null) return null
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_WEBHOOK_MAILBOXES) bad(`mailboxIds must be a list of 1–${MAX_WEBHOOK_MAILBOXES} mailbox ids`)
  for (const id of raw as unknown[]) {
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) bad('mailboxIds must hold mailbox ids')
  }
  return [...new Set(raw as string[])]
}

export function presentWebhook (record: WebhookRecord, deadLetters: number): Webhook {
  return {
    id: record.id,
    url: record.url,
    types: record.types,
    mailboxIds: record.mailboxIds,
    expiresAt: new Date(record.expiresAt).toISOString(),
    status: record.status,
    ...(record.disabledReason === null ? {} : { disabledReason: record.disabledReason }),
    deadLetters,
  }
}

/** Seconds a client is told to wait when the store could not be reached. */
const STORE_RETRY_AFTER = 2

/** The store's own failures (Redis unreachable) are `503 unavailable`; the catalogue's errors pass. */
function unavailable (store: WebhookStore): WebhookStore {
  const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      return await fn(...args)
    } catch (err) {
      if (err instanceof GatewayError) throw err
      throw new GatewayError('unavailable', 'webhook registrations cannot be reached; repeat the request', { retryAfter: STORE_RETRY_AFTER, cause: err })
    }
  }
  return {
    create: wrap(store.create.bind(store)),
    get: wrap(store.get.bind(store)),
    list: wrap(store.list.bind(store)),
    all: wrap(store.all.bind(store)),
    update: wrap(store.update.bind(store)),
    remove: wrap(store.remove.bind(store)),
    counters: wrap(store.counters.bind(store)),
    enqueue: wrap(store.enqueue.bind(store)),
  }
}

export class Webhooks {
  private readonly store: WebhookStore

  constructor (
    store: WebhookStore,
    private readonly checkUrl: WebhookUrlCheck,
    private readonly limits: WebhookLimits,
    /** Called after a registration changes on this instance (the fan-out resyncs at once). */
    private readonly onChange: () => void = () => {}
  ) {
    this.store = unavailable(store)
  }

  async create (caller: Caller, token: string, input: CreateWebhookInput): Promise<CreatedWebhook> {
    const url = parseUrl(input.url, this.limits.allowHttp)
    const types = parseTypes(input.types)
    const mailboxIds = parseMailboxIds(input.mailboxIds)
    await this.checkUrl(url)
    const record: WebhookRecord = {
      id: 'wh_' + randomBytes(16).toString('base64url'),
      accountId: caller.account.id,
      url: url.toString(),
      types,
      mailboxIds,
      secret: 'whsec_' + randomBytes(SECRET_BYTES).toString('base64'),
      token,
      tokenId: caller.tokenId,
      expiresAt: caller.expiresAt,
      createdAt: Date.now(),
      status: 'active',
      disabledReason: null,
    }
    if (!await this.store.create(record, this.limits.maxPerAccount)) {
      throw new GatewayError('rate-limited', `at most ${this.limits.maxPerAccount} webhooks per account`)
    }
    this.onChange()
    return { ...presentWebhook(record, 0), secret: record.secret }
  }

  async list (caller: Caller): Promise<Webhook[]> {
    const records = await this.store.list(caller.account.id)
    return await Promise.all(records.map(async r => presentWebhook(r, (await this.store.counters(r.accountId, r.id)).deadLetters)))
  }

  async get (caller: Caller, id: string): Promise<Webhook> {
    const record = await this.#record(caller, id)
    return presentWebhook(record, (await this.store.counters(record.accountId, record.id)).deadLetters)
  }

  async remove (caller: Caller, id: string): Promise<void> {
    if (!await this.store.remove(caller.account.id, id)) throw new GatewayError('not-found', 'no such webhook')
    this.onChange()
  }

  /** Extends the webhook to the caller's token (a newer one of the same account) and keeps that token's credentials. */
  async renew (caller: Caller, token: string, id: string): Promise<Webhook> {
    const record = await this.#record(caller, id)
    if (caller.tokenId !== record.tokenId && caller.expiresAt >= record.expiresAt) {
      const renewed: WebhookRecord = { ...record, token, tokenId: caller.tokenId, expiresAt: caller.expiresAt }
      if (!await this.store.update(renewed)) throw new GatewayError('not-found', 'no such webhook')
      this.onChange()
      return presentWebhook(renewed, (await this.store.counters(record.accountId, record.id)).deadLetters)
    }
    return presentWebhook(record, (await this.store.counters(record.accountId, record.id)).deadLetters)
  }

  /** Queues a `webhook.test` event for this webhook only. */
  async test (caller: Caller, id: string): Promise<{ id: string }> {
    const record = await this.#record(caller, id)
    const eventId = 'ev_test_' + randomBytes(12).toString('base64url')
    await this.store.enqueue(record, {
      id: eventId,
      type: WEBHOOK_TEST_TYPE,
      accountId: record.accountId,
      mailboxId: null,
      state: null,
      at: new Date().toISOString(),
    })
    return { id: eventId }
  }

  async #record (caller: Caller, id: string): Promise<WebhookRecord> {
    const record = await this.store.get(caller.account.id, id)
    if (record === null) throw new GatewayError('not-found', 'no such webhook')
    return record
  }
}

/**
 * Webhooks (contract §9): what a registration is, what the faces see, and
 * the ports the core needs — a durable store with a per-webhook delivery
 * queue (src/webhooks, Redis) and a URL check (the host guard).
 */
import type { MailEvent, MailEventType } from './events.ts'
import type { Caller } from './service-types.ts'

/** The type of the event `POST /v1/webhooks/{id}/test` sends; never on the bus. */
export const WEBHOOK_TEST_TYPE = 'webhook.test'

/** A delivered payload: an event from the bus, or the test event. */
export type WebhookEvent = MailEvent | (Omit<MailEvent, 'type'> & { type: typeof WEBHOOK_TEST_TYPE })

export type WebhookStatus = 'active' | 'disabled'

/** What is kept per webhook; the store seals it at rest (it holds a bearer token and the signing secret). */
export interface WebhookRecord {
  id: string
  accountId: string
  url: string
  /** Event types delivered (never empty). */
  types: MailEventType[]
  /** Mailboxes whose events are delivered; null: all (account-wide events always pass). */
  mailboxIds: string[] | null
  /** `whsec_` + base64 of random bytes (Standard Webhooks). */
  secret: string
  /** The session token that created or last renewed the webhook: its credentials, its expiry, its revocation. */
  token: string
  tokenId: string
  /** ms since epoch: the token's expiry. */
  expiresAt: number
  createdAt: number
  status: WebhookStatus
  disabledReason: string | null
}

/** The resource (REST and GraphQL). */
export interface Webhook {
  id: string
  url: string
  types: string[]
  mailboxIds: string[] | null
  expiresAt: string
  status: WebhookStatus
  disabledReason?: string
  /** Deliveries dropped after retrying for the whole retry window (or over the queue bound). */
  deadLetters: number
}

/** The answer to a create: the only time the secret is shown. */
export interface CreatedWebhook extends Webhook {
  secret: string
}

export interface CreateWebhookInput {
  url?: unknown
  types?: unknown
  mailboxIds?: unknown
}

/** Per-webhook delivery counters kept beside the queue. */
export interface WebhookCounters {
  deadLetters: number
}

/** Outcome of an enqueue: stored, already queued once (same webhook and event id), or dropped (queue full). */
export type EnqueueResult = 'queued' | 'duplicate' | 'dropped'

/**
 * Durable registrations and their queues. Every method may reject when the
 * store is unreachable (the faces answer 503).
 */
export interface WebhookStore {
  /** Stores a new registration unless the account already has `max`: false then. */
  create: (record: WebhookRecord, max: number) => Promise<boolean>
  get: (accountId: string, id: string) => Promise<WebhookRecord | null>
  list: (accountId: string) => Promise<WebhookRecord[]>
  /** Every live registration of the deployment (the fan-out and watch loop). */
  all: () => Promise<WebhookRecord[]>
  /** Replaces a registration (renew, disable); false when it no longer exists. */
  update: (record: WebhookRecord) => Promise<boolean>
  /** Ends a registration and drops its queue; false when there was none. */
  remove: (accountId: string, id: string) => Promise<boolean>
  counters: (accountId: string, id: string) => Promise<WebhookCounters>
  /** Queues one delivery, at most once per (webhook, event id) across instances. */
  enqueue: (record: WebhookRecord, event: WebhookEvent) => Promise<EnqueueResult>
}

/** Checks a webhook URL's host at creation: rejects with `host-not-allowed` (403). */
export type WebhookUrlCheck = (url: URL) => Promise<void>

/** Opens a stored token again: the caller, or `unauthorized` once it expired or was revoked. */
export type Authenticate = (token: string) => Promise<Caller>

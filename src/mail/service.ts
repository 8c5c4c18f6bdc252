/**
 * The mail service: the one implementation behind REST and GraphQL, a facade
 * over the use cases cut by resource (sessions.ts, mailboxes.ts, messages.ts,
 * downloads.ts, message-writes.ts, changes.ts). Each resolves public ids inside the caller's own account,
 * checks what the account's protocol can do (422 `unsupported` instead of a
 * fake value) and reads through the cache; backends only ever see
 * protocol-native keys. Writes go through the one freshness module.
 */
import type { LoginOrigin, MailBackend } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { Changes } from './changes.ts'
import type { ChangesInput, MailboxChanges } from './changes-types.ts'
import { CursorCodec } from './cursor.ts'
import { Downloads, type PartExtractor } from './downloads.ts'
import type { OneTimeStore, Realtime } from './events.ts'
import { Freshness } from './freshness.ts'
import { GatewayError } from './errors.ts'
import type { LoginThrottle } from './login-throttle.ts'
import { Mailboxes } from './mailboxes.ts'
import { MailboxStates } from './mailbox-states.ts'
import { type AppendRequest, type CreateMailboxInput, MailboxWrites, type UpdateMailboxInput } from './mailbox-writes.ts'
import { IdempotencyRecords, type SharedIdempotencyRecords } from './idempotency.ts'
import { MessageReader, type ReaderStats } from './message-reader.ts'
import { MessageWrites } from './message-writes.ts'
import { Messages } from './messages.ts'
import type {
  BatchInput, BatchResult, Caller, CreateSessionInput, Download, GetMessageOptions, KeywordUpdate, KeywordUpdateOptions, ListMessagesInput, MailServiceApi,
  MessagePageWithCursors, MessageResult, OpenOptions, Placement, ReadinessReport, SessionGrant,
} from './service-types.ts'
import { type RevocationStore, Sessions } from './sessions.ts'
import { TokenLifetimes } from './token-lifetimes.ts'
import { TokenSealer } from './tokens.ts'
import type { MailSender } from './send-port.ts'
import { localSendRate, type SendRateLimit } from './send-rate.ts'
import { DEFAULT_SEND_LIMITS, type SendLimits, type SendRequest, type SendResult, Sending } from './sending.ts'
import { AttemptBuckets } from '../util/attempt-buckets.ts'
import type { Mailbox, Message, Protocol } from './types.ts'
import type { EventBus } from './events.ts'
import type { Watching } from './watch-port.ts'
import { serviceChangeSource } from './watch-changes.ts'
import { Watchers, type WatchersOptions } from './watchers.ts'
import { CachedWatchStates } from './watch-states.ts'

export type { PartExtractor } from './downloads.ts'

export interface MailServiceOptions {
  backends: Record<Protocol, MailBackend>
  cache: CachePort
  revocations: RevocationStore
  /** Idempotency-Key records shared by every instance (Redis); absent: this process's own. */
  sharedIdempotency?: SharedIdempotencyRecords | null
  secret: Buffer
  sessionTtlMax: number
  stalenessMs: number
  extractPart: PartExtractor
  /** Rate limit of session creation per client and per account (none when absent). */
  loginThrottle?: LoginThrottle
  /** APPEND_LIMIT: the largest message accepted (octets; the server's APPENDLIMIT may be lower). */
  appendLimit?: number
  /** Where EventSource tickets live (single use, any instance); absent: no SSE routes. */
  tickets?: OneTimeStore | null
  /** SMTP submission (contract §10); absent: no session can send. */
  sender?: MailSender | null
  sendLimits?: SendLimits
  /** Counts SEND_RATE_PER_MINUTE for the deployment (Redis); absent: this process counts its own. */
  sendRate?: SendRateLimit | null
  /** Extra resources to close with the service (cache connections, …). */
  onClose?: () => Promise<void>
  /** Watchers for event subscribers (watchers.ts); absent: accounts cannot be watched (`unsupported`). */
  watch?: ServiceWatchOptions
}

/** What the composition gives the watchers; the service adds the backends, freshness and its own `changes`. */
export type ServiceWatchOptions = Omit<WatchersOptions, 'backends' | 'source' | 'freshness'>

/** Watching where no watchers are composed. */
const NO_WATCHING: Watching = {
  acquire: async () => { throw new GatewayError('unsupported', 'this gateway does not watch accounts') },
  close: async () => {},
}

/** 25 MiB (APPEND_LIMIT's default). */
export const DEFAULT_APPEND_LIMIT = 25 * 1024 * 1024

export class MailService implements MailServiceApi {
  readonly #sessions: Sessions
  readonly #reader: MessageReader
  readonly #mailboxes: Mailboxes
  readonly #messages: Messages
  readonly #downloads: Downloads
  readonly #writes: MessageWrites
  readonly #mailboxWrites: MailboxWrites
  readonly #changes: Changes
  /** Keeps accounts watched while event subscribers hold handles (SSE, GraphQL subscriptions, webhooks). */
  readonly watching: Watching
  /** The bus the watchers publish on (the event faces read it); null without watchers. */
  readonly events: EventBus | null
  readonly #sending: Sending
  readonly idempotency: IdempotencyRecords
  readonly lifetimes: TokenLifetimes
  readonly realtime: Realtime | null

  constructor (private readonly opts: MailServiceOptions) {
    const backendOf = (caller: Caller): MailBackend => opts.backends[caller.account.protocol]
    const freshness = new Freshness(opts.cache, opts.stalenessMs)
    this.#sessions = new Sessions(opts.backends, new TokenSealer(opts.secret), opts.revocations, opts.sessionTtlMax, opts.loginThrottle ?? null, opts.sender ?? null)
    this.#reader = new MessageReader({ cache: opts.cache, stalenessMs: opts.stalenessMs, freshness })
    const states = new MailboxStates(opts.cache, opts.secret)
    this.#mailboxes = new Mailboxes(backendOf, opts.cache, freshness, opts.stalenessMs, states)
    this.#changes = new Changes(backendOf, this.#mailboxes, states)
    this.#messages = new Messages(backendOf, this.#mailboxes, this.#reader, new CursorCodec(opts.secret))
    this.#downloads = new Downloads(backendOf, opts.cache, this.#reader, opts.extractPart)
    this.#writes = new MessageWrites(backendOf, this.#mailboxes, freshness)
    this.#mailboxWrites = new MailboxWrites(backendOf, this.#mailboxes, freshness, opts.appendLimit ?? DEFAULT_APPEND_LIMIT)
    this.watching = opts.watch === undefined
      ? NO_WATCHING
      : new Watchers({ ...opts.watch, backends: opts.backends, freshness, states: new CachedWatchStates(opts.cache), source: serviceChangeSource(this) })
    this.events = opts.watch?.bus ?? null
    this.idempotency = new IdempotencyRecords(opts.sharedIdempotency ?? null)
    // a revocation made on another instance reaches this one's subscribers within the staleness bound
    this.lifetimes = new TokenLifetimes(id => opts.revocations.isRevoked(id), Math.max(opts.stalenessMs, 500))
    this.realtime = this.events === null || opts.tickets == null ? null : { events: this.events, watching: this.watching, tickets: opts.tickets }
    const sendLimits = opts.sendLimits ?? DEFAULT_SEND_LIMITS
    this.#sending = new Sending(opts.sender ?? null, this.#messages, this.#mailboxes, this.#mailboxWrites, this.#writes,
      sendLimits, opts.sendRate ?? localSendRate(new AttemptBuckets(), sendLimits.perMinute))
  }

  createSession (input: CreateSessionInput, origin?: LoginOrigin): Promise<SessionGrant> { return this.#sessions.create(input, origin) }
  authenticate (token: string): Promise<Caller> { return this.#sessions.authenticate(token) }
  async revokeSession (caller: Caller): Promise<void> {
    await this.#sessions.revoke(caller)
    this.lifetimes.revoked(caller.tokenId)
  }

  onRevoked (listener: (tokenId: string) => void): () => void { return this.#sessions.onRevoked(listener) }

  listMailboxes (caller: Caller): Promise<Mailbox[]> { return this.#mailboxes.list(caller) }
  getMailbox (caller: Caller, mailboxId: string): Promise<Mailbox> { return this.#mailboxes.get(caller, mailboxId) }
  createMailbox (caller: Caller, input: CreateMailboxInput): Promise<Mailbox> { return this.#mailboxWrites.create(caller, input) }
  updateMailbox (caller: Caller, mailboxId: string, input: UpdateMailboxInput): Promise<Mailbox> { return this.#mailboxWrites.update(caller, mailboxId, input) }
  deleteMailbox (caller: Caller, mailboxId: string, opts?: { force?: boolean }): Promise<void> { return this.#mailboxWrites.remove(caller, mailboxId, opts) }
  appendMessage (caller: Caller, mailboxId: string, req: AppendRequest): Promise<Placement> { return this.#mailboxWrites.append(caller, mailboxId, req) }
  mailboxState (caller: Caller, mailboxId: string): Promise<string | null> { return this.#changes.current(caller, mailboxId) }
  changes (caller: Caller, mailboxId: string, input: ChangesInput): Promise<MailboxChanges> { return this.#changes.since(caller, mailboxId, input) }

  listMessages (caller: Caller, mailboxId: string, input: ListMessagesInput): Promise<MessagePageWithCursors> {
    return this.#messages.list(caller, mailboxId, input)
  }

  getMessage (caller: Caller, messageId: string, opts?: GetMessageOptions): Promise<MessageResult> { return this.#messages.get(caller, messageId, opts) }
  getMessages (caller: Caller, messageIds: string[]): Promise<Array<Message | GatewayError>> { return this.#messages.getMany(caller, messageIds) }

  openRaw (caller: Caller, messageId: string, opts?: OpenOptions): Promise<Download> { return this.#downloads.raw(caller, messageId, opts) }
  openAttachment (caller: Caller, messageId: string, attachmentId: string, opts?: OpenOptions): Promise<Download> {
    return this.#downloads.attachment(caller, messageId, attachmentId, opts)
  }

  updateKeywords (caller: Caller, messageId: string, keywords: unknown, opts?: KeywordUpdateOptions): Promise<KeywordUpdate> {
    return this.#writes.updateKeywords(caller, messageId, keywords, opts)
  }

  moveMessage (caller: Caller, messageId: string, mailboxId: string): Promise<Placement> { return this.#writes.moveMessage(caller, messageId, mailboxId) }
  copyMessage (caller: Caller, messageId: string, mailboxId: string): Promise<Placement> { return this.#writes.copyMessage(caller, messageId, mailboxId) }
  deleteMessage (caller: Caller, messageId: string, opts?: { permanent?: boolean }): Promise<Placement | null> { return this.#writes.deleteMessage(caller, messageId, opts) }
  batchMessages (caller: Caller, input: BatchInput): Promise<BatchResult[]> { return this.#writes.batchMessages(caller, input) }

  sendMessage (caller: Caller, req: SendRequest): Promise<SendResult> { return this.#sending.send(caller, req) }

  /** Cache outcomes of message reads so far (debug stats; not part of MailServiceApi). */
  readerStats (): ReaderStats {
    return { ...this.#reader.stats }
  }

  async readiness (): Promise<ReadinessReport> {
    return { ready: true, cache: this.opts.cache.status() }
  }

  /** Watchers first (they hold connections and publish), then the pools, then the bus, then the cache. */
  async close (): Promise<void> {
    this.lifetimes.close()
    // watchers first: they log out of their IDLE connections and give their leases up before the pools close
    await this.watching.close()
    await Promise.allSettled([this.opts.backends.imap.close(), this.opts.backends.pop3.close(), this.opts.sender?.close()])
    await this.events?.close().catch(() => {})
    await this.opts.onClose?.()
  }
}

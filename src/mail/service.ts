/**
 * The mail service: the one implementation behind REST and GraphQL.
 * It resolves public ids inside the caller's own account, checks what the
 * account's protocol can do (422 `unsupported` instead of a fake value), and
 * reads through the cache; backends only ever see protocol-native keys.
 */
import type { Readable } from 'node:stream'
import type { LoginOrigin, MailBackend, MailboxRecord, MessageKey, SummaryRecord } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { CursorCodec } from './cursor.ts'
import { GatewayError } from './errors.ts'
import { decodeMailboxId, decodeMessageId, encodeMessageId } from './ids.ts'
import type { LoginThrottle } from './login-throttle.ts'
import { MessageReader, type ReaderStats } from './message-reader.ts'
import { turnBeforeLarge } from './large-records.ts'
import { bodyCap, messageView } from './body-view.ts'
import { openRawCached } from './raw-cache.ts'
import { contentEtag, messageEtag, presentMailbox, presentMessageOnce, presentSummary } from './present.ts'
import type {
  Caller, CreateSessionInput, Download, GetMessageOptions, ListMessagesInput, MailServiceApi, MessagePageWithCursors, MessageResult, OpenOptions, ReadinessReport, SessionGrant,
} from './service-types.ts'
import { type RevocationStore, Sessions } from './sessions.ts'
import { TokenSealer } from './tokens.ts'
import type { Mailbox, Message, MessageFilter, Protocol } from './types.ts'

export type PartExtractor = (raw: Readable, partId: string) => Promise<{ stream: Readable }>

export interface MailServiceOptions {
  backends: Record<Protocol, MailBackend>
  cache: CachePort
  revocations: RevocationStore
  secret: Buffer
  sessionTtlMax: number
  stalenessMs: number
  extractPart: PartExtractor
  /** Rate limit of session creation per client and per account (none when absent). */
  loginThrottle?: LoginThrottle
  /** Extra resources to close with the service (cache connections, …). */
  onClose?: () => Promise<void>
}

const MAX_LIMIT = 200
const DEFAULT_LIMIT = 50
/** The one mailbox of an account without folders (contract §2). */
const SOLE_MAILBOX = 'INBOX'

function hasFilter (f: MessageFilter): boolean {
  return Object.values(f).some(v => v !== undefined)
}

export class MailService implements MailServiceApi {
  readonly #sessions: Sessions
  readonly #cursors: CursorCodec
  readonly #reader: MessageReader

  constructor (private readonly opts: MailServiceOptions) {
    this.#sessions = new Sessions(opts.backends, new TokenSealer(opts.secret), opts.revocations, opts.sessionTtlMax, opts.loginThrottle ?? null)
    this.#cursors = new CursorCodec(opts.secret)
    this.#reader = new MessageReader({ cache: opts.cache, stalenessMs: opts.stalenessMs })
  }

  #backend (caller: Caller): MailBackend {
    return this.opts.backends[caller.account.protocol]
  }

  createSession (input: CreateSessionInput, origin?: LoginOrigin): Promise<SessionGrant> {
    return this.#sessions.create(input, origin)
  }

  authenticate (token: string): Promise<Caller> {
    return this.#sessions.authenticate(token)
  }

  revokeSession (caller: Caller): Promise<void> {
    return this.#sessions.revoke(caller)
  }

  /**
   * Mailboxes and their counts are mutable: shared for at most the staleness
   * bound (whole seconds: the cache's TTL unit), so repeated lists and
   * getMailbox calls within it cost one LIST + STATUS round, never more stale.
   */
  async listMailboxes (caller: Caller): Promise<Mailbox[]> {
    const load = (): Promise<MailboxRecord[]> => this.#backend(caller).listMailboxes(caller.ctx)
    const ttl = Math.floor(this.opts.stalenessMs / 1000)
    const records = ttl >= 1 ? await this.opts.cache.forAccount(caller.account.id).rememberJson('mailboxes', [], ttl, load) : await load()
    return records.map(r => presentMailbox(caller.account.id, r))
  }

  async getMailbox (caller: Caller, mailboxId: string): Promise<Mailbox> {
    const path = this.#mailboxPath(caller, mailboxId)
    const found = (await this.listMailboxes(caller)).find(m => m.path === path)
    if (found === undefined) throw new GatewayError('not-found', 'no such mailbox in this account')
    return found
  }

  async listMessages (caller: Caller, mailboxId: string, input: ListMessagesInput): Promise<MessagePageWithCursors> {
    const path = this.#mailboxPath(caller, mailboxId)
    const filter = input.filter ?? {}
    const limit = input.limit ?? DEFAULT_LIMIT
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new GatewayError('bad-request', `limit must be 1–${MAX_LIMIT}`)
    if (hasFilter(filter) && caller.account.capabilities.search !== true) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts cannot filter messages on the server`)
    }
    const scope = { accountId: caller.account.id, mailbox: path, filter }
    const after = input.cursor === undefined ? undefined : this.#cursors.decode(scope, input.cursor)
    const result = await this.#backend(caller).listMessages(caller.ctx, path, after === undefined ? { limit, filter } : { limit, filter, after })
    this.#fillUnknownAttachments(caller, result.items)
    const encode = this.#cursors.encoder(scope)
    const page: MessagePageWithCursors = {
      items: result.items.map(r => presentSummary(caller.account.id, caller.account.protocol, r)),
      nextCursor: result.next === null ? null : encode(result.next),
      total: result.total,
    }
    const positions = result.positions
    if (positions !== undefined) {
      // Per-item cursors (GraphQL edges) cost an HMAC each: made when first read; REST never reads them.
      let cursors: string[] | undefined
      Object.defineProperty(page, 'itemCursors', { enumerable: true, get: () => (cursors ??= positions.map(encode)) })
    }
    return page
  }

  /**
   * The mailbox path an id names. An account without folders (POP3: one
   * maildrop) has only INBOX; a well-formed id of any other folder asks for
   * what the protocol cannot do, which the contract answers with 422
   * `unsupported`, not 404.
   */
  #mailboxPath (caller: Caller, mailboxId: string): string {
    const path = decodeMailboxId(caller.account.id, mailboxId)
    if (caller.account.capabilities.mailboxes !== true && path !== SOLE_MAILBOX) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts have no folders: their only mailbox is ${SOLE_MAILBOX}`)
    }
    return path
  }

  /**
   * POP3 cannot tell hasAttachment from `TOP n 0`; where this process holds the
   * parsed message the real value is known, so it is given instead of null.
   */
  #fillUnknownAttachments (caller: Caller, items: SummaryRecord[]): void {
    const unknown = items.filter(i => i.hasAttachment === null)
    if (unknown.length === 0) return
    const cached = this.#reader.peek(caller.ctx, unknown.map(i => i.key))
    unknown.forEach((item, i) => { item.hasAttachment = cached[i]?.hasAttachment ?? null })
  }

  #key (caller: Caller, messageId: string): MessageKey {
    return decodeMessageId(caller.account.id, caller.account.protocol, messageId)
  }

  /** The message with each body cut to `maxBodyBytes` (default 256 KiB; see body-view.ts). */
  async getMessage (caller: Caller, messageId: string, opts: GetMessageOptions = {}): Promise<MessageResult> {
    const cap = bodyCap(opts.maxBodyBytes)
    const record = await this.#reader.readOne(this.#backend(caller), caller.ctx, this.#key(caller, messageId))
    await turnBeforeLarge(record) // presenting and sending it is the next long synchronous step
    const whole = presentMessageOnce(caller.account.id, caller.account.protocol, record)
    const view = messageView(whole.message, cap)
    return view.cut ? { message: view.message, etag: messageEtag(view.message, cap) } : { message: whole.message, etag: whole.etag }
  }

  async getMessages (caller: Caller, messageIds: string[]): Promise<Array<Message | GatewayError>> {
    const out: Array<Message | GatewayError> = new Array(messageIds.length)
    const keys: MessageKey[] = []
    const slots: number[] = []
    messageIds.forEach((id, i) => {
      try {
        keys.push(this.#key(caller, id))
        slots.push(i)
      } catch (err) {
        out[i] = err instanceof GatewayError ? err : new GatewayError('bad-request', 'malformed message id')
      }
    })
    const records = keys.length === 0 ? [] : await this.#reader.read(this.#backend(caller), caller.ctx, keys)
    slots.forEach((slot, j) => {
      const record = records[j]
      out[slot] = record === null || record === undefined
        ? new GatewayError('not-found', 'no such message in this mailbox')
        : presentMessageOnce(caller.account.id, caller.account.protocol, record).message
    })
    return out
  }

  async openRaw (caller: Caller, messageId: string, opts: OpenOptions = {}): Promise<Download> {
    const key = this.#key(caller, messageId)
    const backend = this.#backend(caller)
    const etag = contentEtag(encodeMessageId(caller.account.id, key), 'raw')
    const confirm = (): Promise<void> => this.#reader.confirm(backend, caller.ctx, key)
    if (opts.notModified?.(etag) === true) {
      // the content at an id never changes: only its existence needs checking
      await confirm()
      return { stream: null, contentType: 'message/rfc822', filename: null, size: null, etag }
    }
    const raw = await openRawCached(this.opts.cache, backend, caller.ctx, key, confirm)
    return { stream: raw.stream, contentType: 'message/rfc822', filename: null, size: raw.size, etag }
  }

  async openAttachment (caller: Caller, messageId: string, attachmentId: string, opts: OpenOptions = {}): Promise<Download> {
    const key = this.#key(caller, messageId)
    const backend = this.#backend(caller)
    const record = await this.#reader.readOne(backend, caller.ctx, key)
    const attachment = record.attachments.find(a => a.partId === attachmentId)
    if (attachment === undefined) throw new GatewayError('not-found', 'no such attachment in this message')
    const etag = contentEtag(encodeMessageId(caller.account.id, key), `part:${attachment.partId}`)
    const described = { contentType: attachment.contentType, filename: attachment.filename, size: attachment.size, etag }
    if (opts.notModified?.(etag) === true) return { stream: null, ...described }
    // readOne above already confirmed the message: no second check
    const raw = await openRawCached(this.opts.cache, backend, caller.ctx, key, async () => {})
    let part: { stream: Readable }
    try {
      part = await this.opts.extractPart(raw.stream, attachment.partId)
    } catch (err) {
      raw.stream.destroy()
      throw err
    }
    return { stream: part.stream, ...described }
  }

  /** Cache outcomes of message reads so far (debug stats; not part of MailServiceApi). */
  readerStats (): ReaderStats {
    return { ...this.#reader.stats }
  }

  async readiness (): Promise<ReadinessReport> {
    return { ready: true, cache: this.opts.cache.status() }
  }

  async close (): Promise<void> {
    await Promise.allSettled([this.opts.backends.imap.close(), this.opts.backends.pop3.close()])
    await this.opts.onClose?.()
  }
}

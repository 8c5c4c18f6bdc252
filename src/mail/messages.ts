/**
 * Message reads: list pages (with their cursors) and whole messages through
 * the cached reader, each resolved inside the caller's own account.
 */
import type { MailBackend, MessageKey, SummaryRecord } from './backend.ts'
import type { CursorCodec } from './cursor.ts'
import { GatewayError } from './errors.ts'
import { decodeMessageId } from './ids.ts'
import { turnBeforeLarge } from './large-records.ts'
import type { Mailboxes } from './mailboxes.ts'
import type { MessageReader } from './message-reader.ts'
import { bodyCap, messageView } from './body-view.ts'
import { messageEtag, presentMessageOnce, presentSummary } from './present.ts'
import type { Caller, GetMessageOptions, ListMessagesInput, MessagePageWithCursors, MessageResult } from './service-types.ts'
import type { Message, MessageFilter } from './types.ts'

const MAX_LIMIT = 200
const DEFAULT_LIMIT = 50

function hasFilter (f: MessageFilter): boolean {
  return Object.values(f).some(v => v !== undefined)
}

/** The protocol-native key a public message id names inside the caller's account. */
export function messageKey (caller: Caller, messageId: string): MessageKey {
  return decodeMessageId(caller.account.id, caller.account.protocol, messageId)
}

export class Messages {
  constructor (
    private readonly backendOf: (caller: Caller) => MailBackend,
    private readonly mailboxes: Mailboxes,
    private readonly reader: MessageReader,
    private readonly cursors: CursorCodec
  ) {}

  async list (caller: Caller, mailboxId: string, input: ListMessagesInput): Promise<MessagePageWithCursors> {
    const path = this.mailboxes.path(caller, mailboxId)
    const filter = input.filter ?? {}
    const limit = input.limit ?? DEFAULT_LIMIT
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new GatewayError('bad-request', `limit must be 1–${MAX_LIMIT}`)
    if (hasFilter(filter) && caller.account.capabilities.search !== true) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts cannot filter messages on the server`)
    }
    const scope = { accountId: caller.account.id, mailbox: path, filter }
    const after = input.cursor === undefined ? undefined : this.cursors.decode(scope, input.cursor)
    const result = await this.backendOf(caller).listMessages(caller.ctx, path, after === undefined ? { limit, filter } : { limit, filter, after })
    this.#fillUnknownAttachments(caller, result.items)
    const encode = this.cursors.encoder(scope)
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
   * POP3 cannot tell hasAttachment from `TOP n 0`; where this process holds the
   * parsed message the real value is known, so it is given instead of null.
   */
  #fillUnknownAttachments (caller: Caller, items: SummaryRecord[]): void {
    const unknown = items.filter(i => i.hasAttachment === null)
    if (unknown.length === 0) return
    const cached = this.reader.peek(caller.ctx, unknown.map(i => i.key))
    unknown.forEach((item, i) => { item.hasAttachment = cached[i]?.hasAttachment ?? null })
  }

  /** The message with each body cut to `maxBodyBytes` (default 256 KiB; see body-view.ts). */
  async get (caller: Caller, messageId: string, opts: GetMessageOptions = {}): Promise<MessageResult> {
    const cap = bodyCap(opts.maxBodyBytes)
    const record = await this.reader.readOne(this.backendOf(caller), caller.ctx, messageKey(caller, messageId))
    await turnBeforeLarge(record) // presenting and sending it is the next long synchronous step
    const whole = presentMessageOnce(caller.account.id, caller.account.protocol, record)
    const view = messageView(whole.message, cap)
    return view.cut ? { message: view.message, etag: messageEtag(view.message, cap) } : { message: whole.message, etag: whole.etag }
  }

  async getMany (caller: Caller, messageIds: string[]): Promise<Array<Message | GatewayError>> {
    const out: Array<Message | GatewayError> = new Array(messageIds.length)
    const keys: MessageKey[] = []
    const slots: number[] = []
    messageIds.forEach((id, i) => {
      try {
        keys.push(messageKey(caller, id))
        slots.push(i)
      } catch (err) {
        out[i] = err instanceof GatewayError ? err : new GatewayError('bad-request', 'malformed message id')
      }
    })
    const records = keys.length === 0 ? [] : await this.reader.read(this.backendOf(caller), caller.ctx, keys)
    slots.forEach((slot, j) => {
      const record = records[j]
      out[slot] = record === null || record === undefined
        ? new GatewayError('not-found', 'no such message in this mailbox')
        : presentMessageOnce(caller.account.id, caller.account.protocol, record).message
    })
    return out
  }
}

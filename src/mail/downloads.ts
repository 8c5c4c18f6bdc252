/**
 * Downloads: a message's raw source and one attachment's bytes, streamed,
 * with strong entity-tags (content at a message id never changes) and small
 * raw sources served from the cache once the message is confirmed to exist.
 */
import type { Readable } from 'node:stream'
import type { MailBackend } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { GatewayError } from './errors.ts'
import { encodeMessageId } from './ids.ts'
import type { MessageReader } from './message-reader.ts'
import { messageKey } from './messages.ts'
import { contentEtag } from './present.ts'
import { openRawCached } from './raw-cache.ts'
import type { Caller, Download, OpenOptions } from './service-types.ts'

export type PartExtractor = (raw: Readable, partId: string) => Promise<{ stream: Readable }>

export class Downloads {
  constructor (
    private readonly backendOf: (caller: Caller) => MailBackend,
    private readonly cache: CachePort,
    private readonly reader: MessageReader,
    private readonly extractPart: PartExtractor
  ) {}

  async raw (caller: Caller, messageId: string, opts: OpenOptions = {}): Promise<Download> {
    const key = messageKey(caller, messageId)
    const backend = this.backendOf(caller)
    const etag = contentEtag(encodeMessageId(caller.account.id, key), 'raw')
    const confirm = (): Promise<void> => this.reader.confirm(backend, caller.ctx, key)
    if (opts.notModified?.(etag) === true) {
      // the content at an id never changes: only its existence needs checking
      await confirm()
      return { stream: null, contentType: 'message/rfc822', filename: null, size: null, etag }
    }
    const raw = await openRawCached(this.cache, backend, caller.ctx, key, confirm)
    return { stream: raw.stream, contentType: 'message/rfc822', filename: null, size: raw.size, etag }
  }

  async attachment (caller: Caller, messageId: string, attachmentId: string, opts: OpenOptions = {}): Promise<Download> {
    const key = messageKey(caller, messageId)
    const backend = this.backendOf(caller)
    const record = await this.reader.readOne(backend, caller.ctx, key)
    const attachment = record.attachments.find(a => a.partId === attachmentId)
    if (attachment === undefined) throw new GatewayError('not-found', 'no such attachment in this message')
    const etag = contentEtag(encodeMessageId(caller.account.id, key), `part:${attachment.partId}`)
    const described = { contentType: attachment.contentType, filename: attachment.filename, size: attachment.size, etag }
    if (opts.notModified?.(etag) === true) return { stream: null, ...described }
    // readOne above already confirmed the message: no second check
    const raw = await openRawCached(this.cache, backend, caller.ctx, key, async () => {})
    let part: { stream: Readable }
    try {
      part = await this.extractPart(raw.stream, attachment.partId)
    } catch (err) {
      raw.stream.destroy()
      throw err
    }
    return { stream: part.stream, ...described }
  }
}

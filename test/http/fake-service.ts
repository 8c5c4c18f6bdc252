/**
 * A MailServiceApi fake for the REST tests: contract-shaped data, GatewayErrors
 * on demand (`fake.failWith('getMessage', err)`), and a record of every call.
 * Token "good-token" authenticates; anything else is unauthorized.
 */
import { PassThrough, Readable } from 'node:stream'
import { GatewayError } from '../../src/mail/errors.ts'
import type { BatchInput, BatchResult, KeywordUpdate, KeywordUpdateOptions, Placement, Caller, CreateSessionInput, Download, ListMessagesInput, MailServiceApi, MessageResult, ReadinessReport, SessionGrant } from '../../src/mail/service-types.ts'
import type { Account, Mailbox, Message, MessagePage } from '../../src/mail/types.ts'
import type { ChangesInput, MailboxChanges } from '../../src/mail/changes-types.ts'

export const GOOD_TOKEN = 'good-token'
export const INBOX_ID = 'AQGqqqqqqqpJTkJPWA'
export const MESSAGE_ID = 'AQKqqqqqqqoAAAABAAAAB0lOQk9Y'
export const RAW = Buffer.from('From: Ann <ann@example.com>\r\nSubject: Hi\r\n\r\nHello\r\n')
export const ATTACHMENT = Buffer.from('%PDF-1.4 fake\n')

export const account: Account = {
  id: 'acct_abcdefghijklmnopqrstu',
  protocol: 'imap',
  host: 'mail.example.com',
  port: 993,
  username: 'alice',
  capabilities: { mailboxes: true, keywords: true, search: true, move: true, idle: true, condstore: true },
}

export const mailboxes: Mailbox[] = [
  { id: INBOX_ID, name: 'INBOX', path: 'INBOX', parentId: null, role: 'inbox', totalEmails: 2, unreadEmails: 1, isSubscribed: true, state: 'c3RhdGUtaW5ib3g' },
  { id: 'AQGqqqqqqqpTZW50', name: 'Sent', path: 'Sent', parentId: null, role: 'sent', totalEmails: 0, unreadEmails: 0, isSubscribed: true, state: null },
]

export const message: Message = {
  id: MESSAGE_ID,
  mailboxId: INBOX_ID,
  protocol: 'imap',
  messageId: 'abc@example.com',
  subject: 'Quarterly report',
  from: [{ name: 'Ann Example', email: 'ann@example.com' }],
  to: [{ name: null, email: 'alice@example.com' }],
  cc: [],
  sentAt: '2024-08-24T16:30:00+02:00',
  receivedAt: '2024-08-24T14:30:07Z',
  size: RAW.length,
  keywords: ['$seen'],
  modseq: '42',
  hasAttachment: true,
  sender: [],
  bcc: [],
  replyTo: [],
  inReplyTo: [],
  references: [],
  preview: 'Hello',
  text: 'Hello\r\n',
  html: null,
  textTruncated: false,
  htmlTruncated: false,
  attachments: [{
    id: '2',
    filename: 'Bericht März 2024.pdf',
    contentType: 'application/pdf',
    size: ATTACHMENT.length,
    disposition: 'attachment',
    contentId: null,
    url: `/v1/messages/${MESSAGE_ID}/attachments/2`,
  }],
  headers: [{ name: 'Subject', value: 'Quarterly report' }],
}

export const MESSAGE_ETAG = 'W/"k3y5w0rds"'

type Method = keyof MailServiceApi

export class FakeService implements MailServiceApi {
  readonly calls: Array<{ method: Method, args: unknown[] }> = []
  readonly #failures = new Map<Method, Error>()
  readiness_: ReadinessReport = { ready: true, cache: { backend: 'memory', status: 'ok' } }
  /** Stream handed out by the last openRaw/openAttachment. */
  lastStream: Readable | null = null
  /** Replace the next download's stream (e.g. one that stalls or fails). */
  nextStream: (() => Readable) | null = null
  rawSize: number | null = RAW.length

  failWith (method: Method, err: Error): this {
    this.#failures.set(method, err)
    return this
  }

  #enter (method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args })
    const err = this.#failures.get(method)
    if (err !== undefined) throw err
  }

  callsTo (method: Method): unknown[][] {
    return this.calls.filter(c => c.method === method).map(c => c.args)
  }

  async createSession (input: CreateSessionInput): Promise<SessionGrant> {
    this.#enter('createSession', input)
    if (input.password === 'wrong') throw new GatewayError('auth-failed', 'The mail server rejected the login')
    return { token: GOOD_TOKEN, expiresAt: '2030-01-01T00:00:00.000Z', account }
  }

  async authenticate (token: string): Promise<Caller> {
    this.#enter('authenticate', token)
    if (token !== GOOD_TOKEN) throw new GatewayError('unauthorized', 'Invalid or expired token')
    return { tokenId: 't1', expiresAt: Date.parse('2030-01-01T00:00:00Z'), account, ctx: { accountId: account.id, settings: { protocol: 'imap', host: account.host, port: 993, security: 'tls', username: 'alice', password: 'pw' } } }
  }

  async revokeSession (caller: Caller): Promise<void> { this.#enter('revokeSession', caller) }

  async listMailboxes (caller: Caller): Promise<Mailbox[]> {
    this.#enter('listMailboxes', caller)
    return mailboxes
  }

  async getMailbox (caller: Caller, mailboxId: string): Promise<Mailbox> {
    this.#enter('getMailbox', caller, mailboxId)
    const box = mailboxes.find(m => m.id === mailboxId)
    if (box === undefined) throw new GatewayError('not-found', 'no such mailbox in this account')
    return box
  }

  async mailboxState (caller: Caller, mailboxId: string): Promise<string | null> {
    this.#enter('mailboxState', caller, mailboxId)
    return (await this.getMailbox(caller, mailboxId)).state
  }

  /** Contract-shaped; `keywords` (for watchers) is there too, as the real service sends it. */
  async changes (caller: Caller, mailboxId: string, input: ChangesInput): Promise<MailboxChanges> {
    this.#enter('changes', caller, mailboxId, input)
    return { oldState: input.since, newState: 'c3RhdGUtbmV3', hasMoreChanges: false, created: [], updated: [MESSAGE_ID], destroyed: [], keywords: { [MESSAGE_ID]: ['$seen'] } }
  }

  async listMessages (caller: Caller, mailboxId: string, input: ListMessagesInput): Promise<MessagePage> {
    this.#enter('listMessages', caller, mailboxId, input)
    const { sender: _s, bcc: _b, replyTo: _r, inReplyTo: _i, references: _f, preview: _p, text: _t, html: _h, textTruncated: _tt, htmlTruncated: _ht, attachments: _a, headers: _hd, ...summary } = message
    return { items: [summary, { ...summary, id: 'AQKqqqqqqqoAAAABAAAAAklOQk9Y', hasAttachment: null, keywords: null }], nextCursor: 'bmV4dC1wYWdl', total: 7 }
  }

  async getMessage (caller: Caller, messageId: string): Promise<MessageResult> {
    this.#enter('getMessage', caller, messageId)
    if (messageId !== MESSAGE_ID) throw new GatewayError('not-found', 'no such message in this account')
    return { message, etag: MESSAGE_ETAG }
  }

  async getMessages (caller: Caller, ids: string[]): Promise<Array<Message | GatewayError>> {
    this.#enter('getMessages', caller, ids)
    return ids.map(id => id === MESSAGE_ID ? message : new GatewayError('not-found'))
  }

  #stream (bytes: Buffer): Readable {
    const stream = this.nextStream?.() ?? Readable.from([bytes])
    this.nextStream = null
    this.lastStream = stream
    return stream
  }

  async openRaw (caller: Caller, messageId: string): Promise<Download> {
    this.#enter('openRaw', caller, messageId)
    if (messageId !== MESSAGE_ID) throw new GatewayError('not-found', 'no such message in this account')
    return { stream: this.#stream(RAW), contentType: 'message/rfc822', filename: null, size: this.rawSize, etag: '"raw-etag"' }
  }

  async openAttachment (caller: Caller, messageId: string, attachmentId: string): Promise<Download> {
    this.#enter('openAttachment', caller, messageId, attachmentId)
    const a = messageId === MESSAGE_ID ? message.attachments.find(x => x.id === attachmentId) : undefined
    if (a === undefined) throw new GatewayError('not-found', 'no such attachment in this message')
    return { stream: this.#stream(ATTACHMENT), contentType: a.contentType, filename: a.filename, size: a.size, etag: '"part-etag"' }
  }

  async updateKeywords (caller: Caller, messageId: string, keywords: unknown, opts?: KeywordUpdateOptions): Promise<KeywordUpdate> {
    this.#enter('updateKeywords', caller, messageId, keywords, opts)
    if (messageId !== MESSAGE_ID) throw new GatewayError('not-found', 'no such message in this account')
    return { id: MESSAGE_ID, keywords: ['$seen'], modseq: '7', dropped: [] }
  }

  async moveMessage (caller: Caller, messageId: string, mailboxId: string): Promise<Placement> {
    this.#enter('moveMessage', caller, messageId, mailboxId)
    return { id: MESSAGE_ID, mailboxId }
  }

  async copyMessage (caller: Caller, messageId: string, mailboxId: string): Promise<Placement> {
    this.#enter('copyMessage', caller, messageId, mailboxId)
    return { id: null, mailboxId }
  }

  async deleteMessage (caller: Caller, messageId: string, opts?: { permanent?: boolean }): Promise<Placement | null> {
    this.#enter('deleteMessage', caller, messageId, opts)
    return null
  }

  async batchMessages (caller: Caller, input: BatchInput): Promise<BatchResult[]> {
    this.#enter('batchMessages', caller, input)
    return input.ids.map(id => id === MESSAGE_ID ? { id, status: 204 } : { id, status: 404, error: new GatewayError('not-found') })
  }

  // mailbox writes and APPEND are exercised against the real Dovecot (test/e2e/mailbox-writes.test.ts)
  async createMailbox (): Promise<Mailbox> { throw new GatewayError('unsupported', 'not in the fake') }
  async updateMailbox (): Promise<Mailbox> { throw new GatewayError('unsupported', 'not in the fake') }
  async deleteMailbox (): Promise<void> { throw new GatewayError('unsupported', 'not in the fake') }
  async appendMessage (): Promise<Placement> { throw new GatewayError('unsupported', 'not in the fake') }
  async sendMessage (): Promise<never> { throw new GatewayError('unsupported', 'not in the fake') }

  async readiness (): Promise<ReadinessReport> {
    this.#enter('readiness')
    return this.readiness_
  }

  async close (): Promise<void> { this.#enter('close') }
}

/** A stream that sends a first chunk and then never ends (until destroyed). */
export function stallingStream (first: Buffer): PassThrough {
  const s = new PassThrough()
  s.write(first)
  return s
}

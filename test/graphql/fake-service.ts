/**
 * A MailServiceApi fake for the GraphQL tests: contract-shaped data (fake-data.ts),
 * REST-like paging and errors (GatewayError), a record of every call, and
 * failures on demand: `fake.failWith('listMailboxes', new Error('boom'))`.
 */
import { GatewayError } from '../../src/mail/errors.ts'
import type {
  BatchInput, BatchResult, KeywordUpdate, Placement, Caller, CreateSessionInput, Download, ListMessagesInput, MailServiceApi, MessageResult, ReadinessReport, SessionGrant,
} from '../../src/mail/service-types.ts'
import type { Mailbox, Message, MessagePage } from '../../src/mail/types.ts'
import type { ChangesInput, MailboxChanges } from '../../src/mail/changes-types.ts'
import { b64, imapData, IMAP_TOKEN, pop3Data, POP3_TOKEN, summaryOf, type AccountData } from './fake-data.ts'

type Method = keyof MailServiceApi

export class FakeMailService implements MailServiceApi {
  readonly calls: Array<{ method: Method, args: unknown[] }> = []
  readonly revoked = new Set<string>()
  readonly #tokens = new Map<string, AccountData>([[IMAP_TOKEN, imapData()], [POP3_TOKEN, pop3Data()]])
  readonly #failures = new Map<Method, Error>()
  /** Per message id: what getMessages answers instead of the message. */
  readonly itemErrors = new Map<string, GatewayError>()

  failWith (method: Method, err: Error): void { this.#failures.set(method, err) }
  count (method: Method): number { return this.calls.filter(c => c.method === method).length }
  data (token: string): AccountData {
    const d = this.#tokens.get(token)
    if (d === undefined) throw new Error(`no fake account for ${token}`)
    return d
  }

  #enter (method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args })
    const err = this.#failures.get(method)
    if (err !== undefined) throw err
  }

  #data (caller: Caller): AccountData {
    for (const d of this.#tokens.values()) if (d.account.id === caller.account.id) return d
    throw new Error('unknown caller')
  }

  #find (caller: Caller, id: string): Message | GatewayError {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) return new GatewayError('bad-request', 'malformed message id')
    const itemError = this.itemErrors.get(id)
    if (itemError !== undefined) return itemError
    for (const list of this.#data(caller).messages.values()) {
      const m = list.find(x => x.id === id)
      if (m !== undefined) return structuredClone(m)
    }
    return new GatewayError('not-found', 'no such message in this account')
  }

  async createSession (input: CreateSessionInput): Promise<SessionGrant> {
    this.#enter('createSession', input)
    if (input.password !== 'secret' && input.accessToken !== 'oauth') throw new GatewayError('auth-failed')
    const token = input.protocol === 'pop3' ? POP3_TOKEN : IMAP_TOKEN
    return { token, expiresAt: '2030-01-01T00:00:00.000Z', account: this.data(token).account }
  }

  async authenticate (token: string): Promise<Caller> {
    this.#enter('authenticate', token)
    const d = this.#tokens.get(token)
    if (d === undefined || this.revoked.has(token)) throw new GatewayError('unauthorized', 'invalid or expired token')
    const { protocol, host, port, username } = d.account
    const settings = { protocol, host, port, username, security: 'tls' as const, password: 'secret' }
    return { tokenId: b64(token), expiresAt: Date.now() + 3600_000, account: d.account, ctx: { accountId: d.account.id, settings } }
  }

  async revokeSession (caller: Caller): Promise<void> {
    this.#enter('revokeSession', caller.tokenId)
    this.revoked.add(Buffer.from(caller.tokenId, 'base64url').toString())
  }

  async listMailboxes (caller: Caller): Promise<Mailbox[]> {
    this.#enter('listMailboxes')
    return structuredClone(this.#data(caller).mailboxes)
  }

  async getMailbox (caller: Caller, mailboxId: string): Promise<Mailbox> {
    this.#enter('getMailbox', mailboxId)
    const found = this.#data(caller).mailboxes.find(m => m.id === mailboxId)
    if (found === undefined) throw new GatewayError('not-found', 'no such mailbox in this account')
    return structuredClone(found)
  }

  async listMessages (caller: Caller, mailboxId: string, input: ListMessagesInput): Promise<MessagePage> {
    this.#enter('listMessages', mailboxId, input)
    const d = this.#data(caller)
    const all = d.messages.get(mailboxId)
    if (all === undefined) throw new GatewayError('not-found', 'no such mailbox in this account')
    const limit = input.limit ?? 50
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new GatewayError('bad-request', 'limit must be 1–200')
    const f = input.filter ?? {}
    if (Object.keys(f).length > 0 && d.account.capabilities.search !== true) throw new GatewayError('unsupported', 'POP3 accounts cannot filter messages on the server')
    const matching = all.filter(m =>
      (f.unread === undefined || f.unread === !(m.keywords ?? []).includes('$seen')) &&
      (f.subject === undefined || (m.subject ?? '').includes(f.subject)) &&
      (f.since === undefined || (m.receivedAt !== null && new Date(m.receivedAt) >= f.since)))
    let offset = 0
    if (input.cursor !== undefined) {
      const m = /^c(\d+)$/.exec(Buffer.from(input.cursor, 'base64url').toString())
      if (m === null) throw new GatewayError('bad-request', 'malformed cursor')
      offset = Number(m[1])
    }
    const items = matching.slice(offset, offset + limit).map(m => summaryOf(m, d.account.protocol))
    const next = offset + limit < matching.length ? b64(`c${offset + limit}`) : null
    return { items, nextCursor: next, total: matching.length }
  }

  async mailboxState (caller: Caller, mailboxId: string): Promise<string | null> {
    this.#enter('mailboxState', mailboxId)
    return (await this.getMailbox(caller, mailboxId)).state
  }

  /** The mailbox's first message as updated since any state; `keywords` too, as the real service sends it. */
  async changes (caller: Caller, mailboxId: string, input: ChangesInput): Promise<MailboxChanges> {
    this.#enter('changes', mailboxId, input)
    const box = await this.getMailbox(caller, mailboxId)
    if (box.state === null) throw new GatewayError('cannot-calculate-changes', 'no state')
    const first = this.#data(caller).messages.get(mailboxId)?.[0]
    const updated = first === undefined ? [] : [first.id]
    return { oldState: input.since, newState: box.state, hasMoreChanges: false, created: [], updated, destroyed: [], keywords: Object.fromEntries(updated.map(id => [id, ['$seen']])) }
  }

  async getMessage (caller: Caller, messageId: string): Promise<MessageResult> {
    this.#enter('getMessage', messageId)
    const m = this.#find(caller, messageId)
    if (m instanceof GatewayError) throw m
    return { message: m, etag: `W/"${m.id}"` }
  }

  async getMessages (caller: Caller, messageIds: string[]): Promise<Array<Message | GatewayError>> {
    this.#enter('getMessages', messageIds)
    return messageIds.map(id => this.#find(caller, id))
  }

  async openRaw (_caller: Caller, messageId: string): Promise<Download> {
    this.#enter('openRaw', messageId)
    throw new GatewayError('not-found')
  }

  async openAttachment (_caller: Caller, messageId: string, attachmentId: string): Promise<Download> {
    this.#enter('openAttachment', messageId, attachmentId)
    throw new GatewayError('not-found')
  }

  async updateKeywords (_caller: Caller, messageId: string, keywords: unknown): Promise<KeywordUpdate> {
    this.#enter('updateKeywords', messageId, keywords)
    throw new GatewayError('unsupported')
  }

  async moveMessage (_caller: Caller, messageId: string, mailboxId: string): Promise<Placement> {
    this.#enter('moveMessage', messageId, mailboxId)
    throw new GatewayError('unsupported')
  }

  async copyMessage (_caller: Caller, messageId: string, mailboxId: string): Promise<Placement> {
    this.#enter('copyMessage', messageId, mailboxId)
    throw new GatewayError('unsupported')
  }

  async deleteMessage (_caller: Caller, messageId: string): Promise<Placement | null> {
    this.#enter('deleteMessage', messageId)
    throw new GatewayError('unsupported')
  }

  async batchMessages (_caller: Caller, input: BatchInput): Promise<BatchResult[]> {
    this.#enter('batchMessages', input)
    throw new GatewayError('unsupported')
  }

  // mailbox writes and APPEND are exercised against the real Dovecot (test/e2e/mailbox-writes.test.ts)
  async createMailbox (): Promise<Mailbox> { throw new GatewayError('unsupported', 'not in the fake') }
  async updateMailbox (): Promise<Mailbox> { throw new GatewayError('unsupported', 'not in the fake') }
  async deleteMailbox (): Promise<void> { throw new GatewayError('unsupported', 'not in the fake') }
  async appendMessage (): Promise<Placement> { throw new GatewayError('unsupported', 'not in the fake') }
  async sendMessage (): Promise<never> { throw new GatewayError('unsupported', 'not in the fake') }

  async readiness (): Promise<ReadinessReport> {
    return { ready: true, cache: { backend: 'memory', status: 'ok' } }
  }

  async close (): Promise<void> {}
}

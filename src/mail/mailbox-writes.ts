/**
 * New messages (APPEND) and mailbox management (create, rename/move,
 * subscribe, delete), each resolved inside the caller's account, refused
 * with 422 where the account's capabilities say no, and answered only after
 * the freshness module has applied the change (new counts, lists, and the
 * ids a rename or delete retires).
 */
import type { Readable } from 'node:stream'
import type { MailBackend, MailboxRecord } from './backend.ts'
import { GatewayError } from './errors.ts'
import type { Freshness } from './freshness.ts'
import { encodeMailboxId, encodeMessageId } from './ids.ts'
import { isKeyword } from './keywords.ts'
import { type Mailboxes, SOLE_MAILBOX } from './mailboxes.ts'
import { checkedMessage } from './message-head.ts'
import type { Caller, Placement } from './service-types.ts'
import type { Mailbox } from './types.ts'
import type { MailWriters } from './writers.ts'

export interface AppendRequest {
  /** The raw message (message/rfc822), streamed. */
  body: Readable
  /** Octets, from Content-Length. */
  size: number | null
  /** JMAP keyword names. */
  keywords?: string[]
  /** ISO 8601: the server's INTERNALDATE of the new message. */
  receivedAt?: string
}

export interface CreateMailboxInput { name: string, parentId?: string | null }
export interface UpdateMailboxInput { name?: string, parentId?: string | null, isSubscribed?: boolean }

/** JMAP keyword names (keywords.ts), lower-cased, without duplicates. */
export function appendKeywords (names: string[]): string[] {
  const out = new Set<string>()
  for (const raw of names) {
    const name = raw.toLowerCase()
    if (!isKeyword(name)) throw new GatewayError('bad-request', `"${raw.slice(0, 64)}" is not a keyword name IMAP can carry`)
    out.add(name)
  }
  return [...out]
}

export class MailboxWrites {
  constructor (
    private readonly backendOf: (caller: Caller) => MailBackend,
    private readonly mailboxes: Mailboxes,
    private readonly freshness: Freshness,
    private readonly appendLimit: number
  ) {}

  #writers (caller: Caller): MailWriters {
    return this.backendOf(caller).writers ?? {}
  }

  async append (caller: Caller, mailboxId: string, req: AppendRequest): Promise<Placement> {
    const path = this.mailboxes.path(caller, mailboxId)
    const appender = this.#writers(caller).appender
    if (caller.account.capabilities.append !== true || appender === undefined) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts cannot add messages`)
    }
    const serverLimit = caller.account.capabilities.appendLimit
    const limit = typeof serverLimit === 'number' ? Math.min(serverLimit, this.appendLimit) : this.appendLimit
    if (req.size !== null && req.size > limit) throw new GatewayError('payload-too-large', `a message may be at most ${limit} octets here`)
    if (req.size === null) throw new GatewayError('bad-request', 'send the message with a Content-Length')
    const keywords = appendKeywords(req.keywords ?? [])
    let receivedAt: string | null = null
    if (req.receivedAt !== undefined) {
      const at = Date.parse(req.receivedAt)
      if (!/^\d{4}-\d{2}-\d{2}T/.test(req.receivedAt) || Number.isNaN(at)) throw new GatewayError('bad-request', 'receivedAt must be an ISO 8601 date-time')
      receivedAt = new Date(at).toISOString()
    }
    const source = await checkedMessage(req.body)
    const placed = await appender.append(caller.ctx, path, { source, size: req.size, keywords, receivedAt })
    await this.freshness.added(caller.ctx)
    return { id: placed.key === null ? null : encodeMessageId(caller.account.id, placed.key), mailboxId: encodeMailboxId(caller.account.id, path) }
  }

  #manager (caller: Caller): NonNullable<MailWriters['mailboxes']> {
    const writer = this.#writers(caller).mailboxes
    if (caller.account.capabilities.manageMailboxes !== true || writer === undefined) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts have no folders to manage`)
    }
    return writer
  }

  #parentPath (caller: Caller, parentId: string | null | undefined): string | null {
    return parentId === undefined || parentId === null ? null : this.mailboxes.path(caller, parentId)
  }

  async create (caller: Caller, input: CreateMailboxInput): Promise<Mailbox> {
    const writer = this.#manager(caller)
    const record = await writer.create(caller.ctx, this.#parentPath(caller, input.parentId), input.name)
    await this.freshness.mailboxesChanged(caller.ctx)
    return await this.mailboxes.present(caller, record)
  }

  async update (caller: Caller, mailboxId: string, input: UpdateMailboxInput): Promise<Mailbox> {
    const writer = this.#manager(caller)
    const path = this.mailboxes.path(caller, mailboxId)
    const moves = input.name !== undefined || input.parentId !== undefined
    if (moves && path.toUpperCase() === SOLE_MAILBOX) throw new GatewayError('unsupported', 'INBOX cannot be renamed or moved')
    const before = moves ? await this.#subtree(caller, path) : []
    const record: MailboxRecord = await writer.update(caller.ctx, path, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.parentId === undefined ? {} : { parentPath: this.#parentPath(caller, input.parentId) }),
      ...(input.isSubscribed === undefined ? {} : { isSubscribed: input.isSubscribed }),
    })
    await this.freshness.mailboxesChanged(caller.ctx, record.path === path ? [] : before)
    return await this.mailboxes.present(caller, record)
  }

  async remove (caller: Caller, mailboxId: string, opts: { force?: boolean } = {}): Promise<void> {
    const writer = this.#manager(caller)
    const path = this.mailboxes.path(caller, mailboxId)
    if (path.toUpperCase() === SOLE_MAILBOX) throw new GatewayError('unsupported', 'INBOX cannot be deleted')
    const before = await this.#subtree(caller, path)
    await writer.remove(caller.ctx, path, { force: opts.force === true })
    await this.freshness.mailboxesChanged(caller.ctx, before)
  }

  /** The mailbox and every mailbox under it (their ids all change with a rename or delete). */
  async #subtree (caller: Caller, path: string): Promise<string[]> {
    const list = await this.mailboxes.list(caller)
    const under = new Set([path])
    for (let grew = true; grew;) {
      grew = false
      for (const m of list) {
        const parent = m.parentId === null ? null : list.find(p => p.id === m.parentId)?.path
        if (parent !== undefined && parent !== null && under.has(parent) && !under.has(m.path)) { under.add(m.path); grew = true }
      }
    }
    return [...under]
  }
}

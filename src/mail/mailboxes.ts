/**
 * Mailbox reads: the account's mailboxes with their counts, and the path a
 * public mailbox id names inside the caller's account.
 */
import type { MailBackend, MailboxRecord } from './backend.ts'
import type { CachePort } from './cache-port.ts'
import { GatewayError } from './errors.ts'
import type { Freshness } from './freshness.ts'
import { decodeMailboxId } from './ids.ts'
import type { MailboxStates } from './mailbox-states.ts'
import { presentMailbox } from './present.ts'
import type { Caller } from './service-types.ts'
import type { Mailbox } from './types.ts'

/** The one mailbox of an account without folders (contract §2). */
export const SOLE_MAILBOX = 'INBOX'

/** A mailbox as cached: the record with its public state (absent in entries cached before states existed). */
type ListedMailbox = Omit<MailboxRecord, 'state'> & { stateToken?: string | null }

export class Mailboxes {
  constructor (
    private readonly backendOf: (caller: Caller) => MailBackend,
    private readonly cache: CachePort,
    private readonly freshness: Freshness,
    private readonly stalenessMs: number,
    private readonly states: MailboxStates
  ) {}

  /** A record as the public resource, with its state (a backend without one in its listing is asked). */
  async present (caller: Caller, record: MailboxRecord): Promise<Mailbox> {
    const { state: _native, ...r } = record
    return presentMailbox(caller.account.id, r, await this.#token(caller, record))
  }

  async #token (caller: Caller, record: MailboxRecord): Promise<string | null> {
    const backend = this.backendOf(caller)
    let native = record.state
    if (native === undefined) native = backend.mailboxState === undefined ? null : await backend.mailboxState(caller.ctx, record.path)
    return await this.states.token(caller.account.id, record.path, native)
  }

  /**
   * Mailboxes and their counts are mutable: shared for at most the staleness
   * bound (whole seconds: the cache's TTL unit), so repeated lists and
   * getMailbox calls within it cost one LIST + STATUS round, never more stale;
   * and kept per write epoch, so a write's new counts show at once.
   */
  async list (caller: Caller): Promise<Mailbox[]> {
    const load = async (): Promise<ListedMailbox[]> => {
      const records = await this.backendOf(caller).listMailboxes(caller.ctx)
      return await Promise.all(records.map(async (record) => {
        const { state: _native, ...r } = record
        return { ...r, stateToken: await this.#token(caller, record) }
      }))
    }
    const ttl = Math.floor(this.stalenessMs / 1000)
    let records: ListedMailbox[]
    if (ttl >= 1) {
      const epoch = await this.freshness.epoch(caller.ctx)
      records = await this.cache.forAccount(caller.account.id).rememberJson('mailboxes', [epoch ?? ''], ttl, load)
    } else records = await load()
    return records.map(({ stateToken, ...r }) => presentMailbox(caller.account.id, r, stateToken ?? null))
  }

  async get (caller: Caller, mailboxId: string): Promise<Mailbox> {
    const path = this.path(caller, mailboxId)
    const found = (await this.list(caller)).find(m => m.path === path)
    if (found === undefined) throw new GatewayError('not-found', 'no such mailbox in this account')
    return found
  }

  /**
   * The mailbox path an id names. An account without folders (POP3: one
   * maildrop) has only INBOX; a well-formed id of any other folder asks for
   * what the protocol cannot do, which the contract answers with 422
   * `unsupported`, not 404.
   */
  path (caller: Caller, mailboxId: string): string {
    const path = decodeMailboxId(caller.account.id, mailboxId)
    if (caller.account.capabilities.mailboxes !== true && path !== SOLE_MAILBOX) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts have no folders: their only mailbox is ${SOLE_MAILBOX}`)
    }
    return path
  }
}

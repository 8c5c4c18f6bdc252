/**
 * The read operations on a leased session: the one mailbox, a page of
 * summaries (UIDL + LIST + `TOP n 0`: headers only, never a full download),
 * full messages (RETR streamed into the shared normaliser) and raw source.
 */
import type { Readable } from 'node:stream'
import type { ListQuery, ListResult, MailboxRecord, MessageKey, MessageRecord, SummaryRecord } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import { parseFootprint, parseHeaderBlock } from '../../mail/normalise/index.ts'
import { parseMessage } from '../../mail/parse-pool/index.ts'
import type { Permit } from '../../util/byte-budget.ts'
import type { BudgetShort } from '../budget-wait.ts'
import type { MessageFilter } from '../../mail/types.ts'
import { Pop3CommandError } from './client/index.ts'
import type { MaildropSession } from './session.ts'
import { pageOf } from './snapshot.ts'

export const INBOX = 'INBOX'

export function inboxRecord (total: number): MailboxRecord {
  return { path: INBOX, name: INBOX, parentPath: null, role: 'inbox', totalEmails: total, unreadEmails: null, isSubscribed: true }
}

export function assertNoFilter (filter: MessageFilter): void {
  const used = Object.entries(filter).filter(([, v]) => v !== undefined).map(([k]) => k)
  if (used.length > 0) {
    throw new GatewayError('unsupported', `POP3 cannot filter messages (${used.join(', ')}): the protocol has no search`)
  }
}

export function assertInbox (mailbox: string): void {
  if (mailbox !== INBOX) throw new GatewayError('unsupported', 'POP3 accounts have no folders: their only mailbox is INBOX')
}

/** Bytes a RETR may deliver before it counts as hostile (sizes reported in LF units stay under 2×). */
function retrCap (size: number): number {
  return size * 2 + 64 * 1024
}

export async function listPage (session: MaildropSession, query: ListQuery): Promise<ListResult> {
  const snap = await session.snapshot()
  const page = pageOf(snap, query.limit, query.after)
  const caps = session.client.capabilities
  if (caps.known && !caps.top && page.items.length > 0) {
    throw new GatewayError('unsupported', 'This POP3 server has no TOP, so messages cannot be listed without downloading them')
  }
  let heads: Buffer[]
  try {
    // Pipelined when the server offers PIPELINING: one round trip for the page.
    heads = await Promise.all(page.items.map(e => session.client.top(e.n, 0)))
  } catch (err) {
    if (err instanceof Pop3CommandError && !caps.known) {
      throw new GatewayError('unsupported', 'This POP3 server has no TOP, so messages cannot be listed without downloading them')
    }
    throw err
  }
  const items = page.items.map((e, i): SummaryRecord => {
    const fields = parseHeaderBlock(heads[i] as Buffer)
    return {
      ...fields,
      key: { mailbox: INBOX, validity: null, key: e.uid },
      receivedAt: fields.receivedFromHeaders,
      size: snap.sizes.get(e.n) ?? 0,
      keywords: null,
      modseq: null,
      // Unknown without downloading the message (contract: null in POP3 lists).
      hasAttachment: null,
    }
  })
  return { items, total: page.total, next: page.next, positions: page.positions }
}

export interface RetrieveOptions {
  /** Asked when a RETR is cut short: drain the rest (true) or close the connection. */
  drainOnAbort?: () => boolean
}

interface Located { n: number, size: number | undefined }

/** The message number and LIST size of a UIDL in this session's list; null when it has none. */
async function locate (session: MaildropSession, key: MessageKey): Promise<Located | null> {
  if (key.mailbox !== INBOX || key.validity !== null) return null
  const snap = await session.snapshot()
  const n = snap.byUid.get(key.key)
  return n === undefined ? null : { n, size: snap.sizes.get(n) }
}

/**
 * The LIST size bounds what the server may send (a hostile reply is cut off), but
 * is not enforced exactly: some servers count LF line ends.
 */
async function retrAt (session: MaildropSession, { n, size }: Located, opts: RetrieveOptions): Promise<{ stream: Readable, size: number | null }> {
  const stream = await session.client.retr(n, {
    ...(size === undefined ? {} : { exactSize: size, maxBytes: retrCap(size), strictSize: false }),
    ...(opts.drainOnAbort === undefined ? {} : { drainOnAbort: opts.drainOnAbort }),
  })
  return { stream, size: size ?? null }
}

/** RETR of a message by UIDL; null when this session has no such UIDL. */
export async function retrieve (session: MaildropSession, key: MessageKey, opts: RetrieveOptions = {}): Promise<{ stream: Readable, size: number | null } | null> {
  const at = await locate(session, key)
  return at === null ? null : await retrAt(session, at, opts)
}

/**
 * RETR parsed. `permit` (released by the caller) must cover the message's parse
 * footprint before the RETR is sent: held already, or free now. Otherwise the
 * need is answered, and the caller waits for it with the lease given back.
 */
export async function readMessage (session: MaildropSession, key: MessageKey, permit?: Permit): Promise<MessageRecord | null | BudgetShort> {
  const at = await locate(session, key)
  if (at === null) return null
  const need = parseFootprint(at.size ?? null)
  if (permit !== undefined && !permit.hold(need)) return { short: need }
  const got = await retrAt(session, at, {})
  let parsed
  try {
    parsed = await parseMessage(got.stream)
  } finally {
    // A parse that gave up early leaves a half-read RETR: the connection drains or closes it.
    if (!got.stream.readableEnded) got.stream.destroy()
  }
  return {
    ...parsed,
    key: { mailbox: INBOX, validity: null, key: key.key },
    receivedAt: parsed.receivedFromHeaders,
    size: got.size ?? parsed.size,
    keywords: null,
    modseq: null,
  }
}

/**
 * LIST (+ LSUB or LIST-EXTENDED for subscriptions) with STATUS MESSAGES UNSEEN
 * for every mailbox, in one imapflow call; with CONDSTORE also UIDVALIDITY,
 * UIDNEXT and HIGHESTMODSEQ, each mailbox's state (changes.ts). Roles come from RFC 6154
 * special-use attributes (imapflow falls back to well-known names when the
 * server has no SPECIAL-USE); INBOX is always 'inbox'.
 */
import type { ListResponse } from 'imapflow'
import type { MailboxRecord, NativeMailboxState } from '../../mail/backend.ts'
import type { MailboxRole } from '../../mail/types.ts'
import type { ImapSession } from './session.ts'

const ROLES: Record<string, MailboxRole> = {
  '\\inbox': 'inbox',
  '\\sent': 'sent',
  '\\drafts': 'drafts',
  '\\trash': 'trash',
  '\\junk': 'junk',
  '\\archive': 'archive',
  '\\all': 'all',
  '\\flagged': 'flagged',
}

export function roleOf (entry: Pick<ListResponse, 'path' | 'specialUse'>): MailboxRole | null {
  if (entry.path.toUpperCase() === 'INBOX') return 'inbox'
  return entry.specialUse === undefined ? null : ROLES[entry.specialUse.toLowerCase()] ?? null
}

function stateOf (status: ListResponse['status']): NativeMailboxState | null {
  if (status?.highestModseq === undefined || status.uidValidity === undefined || status.uidNext === undefined || status.messages === undefined) return null
  return { kind: 'modseq', state: { validity: status.uidValidity.toString(), modseq: status.highestModseq.toString(), uidNext: status.uidNext, messages: status.messages } }
}

function recordOf (entry: ListResponse): MailboxRecord {
  return {
    path: entry.path,
    name: entry.name,
    parentPath: entry.parentPath === '' ? null : entry.parentPath,
    role: roleOf(entry),
    totalEmails: entry.status?.messages ?? 0,
    unreadEmails: entry.status?.unseen ?? 0,
    isSubscribed: entry.subscribed === true,
    state: stateOf(entry.status),
  }
}

export async function listMailboxes (session: ImapSession): Promise<MailboxRecord[]> {
  const caps = session.client.capabilities
  const modseq = caps.has('CONDSTORE') || caps.has('QRESYNC')
  const statusQuery = { messages: true, unseen: true, ...(modseq ? { uidValidity: true, uidNext: true, highestModseq: true } : {}) }
  const entries = await session.cmd(session.client.list({ statusQuery }))
  return entries.map(recordOf)
}

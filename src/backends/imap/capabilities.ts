/**
 * What an IMAP account can do, read honestly from the server's CAPABILITY
 * (after login, when servers advertise the full list).
 */
import type { ImapFlow } from 'imapflow'
import type { Capabilities } from '../../mail/types.ts'

function has (caps: Map<string, boolean | number>, name: string): boolean {
  return caps.has(name)
}

export function capabilitiesOf (client: ImapFlow): Capabilities {
  const caps = client.capabilities
  const appendLimit = caps.get('APPENDLIMIT')
  return {
    mailboxes: true,
    keywords: true,
    search: true,
    // a move without MOVE is COPY + UID EXPUNGE of those UIDs (UIDPLUS); never a plain EXPUNGE
    move: has(caps, 'MOVE') || has(caps, 'UIDPLUS'),
    idle: has(caps, 'IDLE'),
    // writes: switched on as each lands behind the MailWriters seam. Delete moves to
    // Trash (as a move does) or expunges by UID (UIDPLUS); copy, APPEND and mailbox
    // management are base IMAP.
    delete: has(caps, 'MOVE') || has(caps, 'UIDPLUS'),
    append: true,
    copy: true,
    manageMailboxes: true,
    // Mailbox.state and changes need HIGHESTMODSEQ; expunges are named by QRESYNC's
    // VANISHED (without it, changes after an expunge answer 410)
    changes: has(caps, 'CONDSTORE') || has(caps, 'QRESYNC'),
    condstore: has(caps, 'CONDSTORE') || has(caps, 'QRESYNC'),
    qresync: has(caps, 'QRESYNC'),
    specialUse: has(caps, 'SPECIAL-USE'),
    uidplus: has(caps, 'UIDPLUS'),
    esearch: has(caps, 'ESEARCH'),
    sort: has(caps, 'SORT'),
    thread: has(caps, 'THREAD=REFERENCES') || has(caps, 'THREAD=REFS') || has(caps, 'THREAD=ORDEREDSUBJECT'),
    objectId: has(caps, 'OBJECTID'),
    quota: has(caps, 'QUOTA'),
    imap4rev2: has(caps, 'IMAP4REV2'),
    appendLimit: typeof appendLimit === 'number' ? appendLimit : null,
  }
}

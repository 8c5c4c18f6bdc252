/**
 * Contract-shaped data for the GraphQL fake service: an IMAP account (three
 * mailboxes) and a POP3 account (INBOX only; keywords unknown, list items'
 * hasAttachment null), with deterministic messages and opaque base64url ids.
 */
import type { Account, Mailbox, Message, MessageSummary, Protocol } from '../../src/mail/types.ts'

export const IMAP_TOKEN = 'imap-token'
export const POP3_TOKEN = 'pop3-token'

export const imapAccount: Account = {
  id: 'acct_imap_alice',
  protocol: 'imap',
  host: 'imap.example.com',
  port: 993,
  username: 'alice',
  capabilities: {
    mailboxes: true,
    keywords: true,
    search: true,
    move: true,
    idle: true,
    condstore: true,
    qresync: false,
    specialUse: true,
    appendLimit: 35651584,
  },
}

export const pop3Account: Account = {
  id: 'acct_pop3_bob',
  protocol: 'pop3',
  host: 'pop.example.com',
  port: 995,
  username: 'bob',
  capabilities: {
    mailboxes: false,
    keywords: false,
    search: false,
    move: false,
    idle: false,
    top: true,
    uidl: true,
    pipelining: true,
    stls: false,
    sasl: ['PLAIN', 'XOAUTH2'],
    expire: null,
    loginDelay: 60,
  },
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url')
export const mailboxId = (acct: Account, path: string): string => b64(`mbx:${acct.id}:${path}`)
export const messageId = (acct: Account, path: string, uid: number): string => b64(`msg:${acct.id}:${path}:${uid}`)

function mailbox (acct: Account, path: string, role: Mailbox['role'], total: number, unread: number | null, parent: string | null = null): Mailbox {
  const name = path.split('/').pop() ?? path
  return {
    id: mailboxId(acct, path),
    name,
    path,
    parentId: parent === null ? null : mailboxId(acct, parent),
    role,
    totalEmails: total,
    unreadEmails: unread,
    isSubscribed: true,
    state: acct.protocol === 'imap' ? b64(`state:${acct.id}:${path}`) : null,
  }
}

function message (acct: Account, path: string, uid: number): Message {
  const protocol: Protocol = acct.protocol
  const id = messageId(acct, path, uid)
  const withFile = uid % 3 === 0
  const day = String(1 + (uid % 28)).padStart(2, '0')
  return {
    id,
    mailboxId: mailboxId(acct, path),
    protocol,
    messageId: uid % 7 === 0 ? null : `m${uid}@example.com`,
    subject: uid % 5 === 0 ? null : `Subject ${uid} – Grüße`,
    from: [{ name: `Sender ${uid}`, email: `sender${uid}@example.com` }],
    to: [{ name: null, email: `${acct.username}@example.com` }],
    cc: uid % 2 === 0 ? [{ name: 'Carol', email: 'carol@example.com' }] : [],
    sentAt: `2024-08-${day}T16:30:00+02:00`,
    receivedAt: uid % 11 === 0 ? null : `2024-08-${day}T14:30:07Z`,
    size: 1000 + uid * 17,
    keywords: protocol === 'pop3' ? null : uid % 2 === 0 ? ['$seen'] : uid % 4 === 1 ? ['$flagged'] : [],
    modseq: protocol === 'pop3' ? null : String(100 + uid),
    hasAttachment: withFile,
    sender: [],
    bcc: [],
    replyTo: uid % 4 === 0 ? [{ name: 'Replies', email: 'replies@example.com' }] : [],
    inReplyTo: uid > 1 ? [`m${uid - 1}@example.com`] : [],
    references: uid > 1 ? ['m1@example.com', `m${uid - 1}@example.com`] : [],
    preview: `Hello number ${uid}`,
    text: `Hello number ${uid}\r\n`,
    html: uid % 2 === 0 ? `<p>Hello number ${uid}</p>` : null,
    textTruncated: false,
    htmlTruncated: false,
    attachments: withFile
      ? [{ id: '2', filename: `report-${uid}.pdf`, contentType: 'application/pdf', size: 10240, disposition: 'attachment', contentId: null, url: `/v1/messages/${id}/attachments/2` },
          { id: '3', filename: null, contentType: 'image/png', size: 99, disposition: 'inline', contentId: `logo${uid}@x`, url: `/v1/messages/${id}/attachments/3` }]
      : [],
    headers: [{ name: 'Subject', value: `Subject ${uid}` }, { name: 'X-Uid', value: String(uid) }],
  }
}

export function summaryOf (m: Message, protocol: Protocol): MessageSummary {
  const { id, mailboxId, messageId, subject, from, to, cc, sentAt, receivedAt, size, keywords, modseq } = m
  // POP3 lists cannot tell hasAttachment without downloading the message.
  return { id, mailboxId, protocol, messageId, subject, from, to, cc, sentAt, receivedAt, size, keywords, modseq, hasAttachment: protocol === 'pop3' ? null : m.hasAttachment }
}

export interface AccountData {
  account: Account
  mailboxes: Mailbox[]
  /** Newest first, per mailbox id. */
  messages: Map<string, Message[]>
}

function build (acct: Account, boxes: Array<[string, Mailbox['role'], number, string | null]>): AccountData {
  const messages = new Map<string, Message[]>()
  const mailboxes = boxes.map(([path, role, count, parent]) => {
    const list = Array.from({ length: count }, (_, i) => message(acct, path, count - i))
    messages.set(mailboxId(acct, path), list)
    const unread = acct.protocol === 'pop3' ? null : list.filter(m => !(m.keywords ?? []).includes('$seen')).length
    return mailbox(acct, path, role, count, unread, parent)
  })
  return { account: acct, mailboxes, messages }
}

export const imapData = (): AccountData => build(imapAccount, [['INBOX', 'inbox', 45, null], ['Sent', 'sent', 3, null], ['Sent/2024', null, 2, 'Sent']])
export const pop3Data = (): AccountData => build(pop3Account, [['INBOX', 'inbox', 25, null]])

/**
 * The mailbox validator (see src/mail/mailbox-validators.ts): one STATUS
 * giving UIDVALIDITY, HIGHESTMODSEQ (CONDSTORE, RFC 7162 §3.1.2.1), MESSAGES
 * and UIDNEXT. Any keyword change raises HIGHESTMODSEQ; an expunge changes
 * MESSAGES (and raises HIGHESTMODSEQ where QRESYNC is on); new mail changes
 * UIDNEXT. Without CONDSTORE there is no validator (null): the core then
 * rechecks flags message by message.
 */
import type { ImapSession } from './session.ts'

export async function mailboxValidator (session: ImapSession, path: string): Promise<string | null> {
  const caps = session.client.capabilities
  if (!caps.has('CONDSTORE') && !caps.has('QRESYNC')) return null
  // STATUS on the selected mailbox answers from the connection's view, which
  // only learns of other clients' changes at a sync point: NOOP is one.
  const selected = session.client.mailbox
  if (selected !== false && selected.path === path) await session.sync()
  const status = await session.cmd(session.client.status(path, { uidValidity: true, highestModseq: true, messages: true, uidNext: true }))
  if (status === false || status.highestModseq === undefined || status.uidValidity === undefined) return null
  return [status.uidValidity.toString(), status.highestModseq.toString(), status.messages ?? '', status.uidNext ?? ''].join(':')
}

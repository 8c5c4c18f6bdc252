/**
 * The mailbox validator (see src/mail/mailbox-validators.ts): the mailbox's
 * state from one STATUS (changes.ts: UIDVALIDITY, HIGHESTMODSEQ, MESSAGES,
 * UIDNEXT). Any keyword change raises HIGHESTMODSEQ; an expunge changes
 * MESSAGES (and raises HIGHESTMODSEQ where QRESYNC is on); new mail changes
 * UIDNEXT. Without CONDSTORE there is no validator (null): the core then
 * rechecks flags message by message.
 */
import { modseqState } from './changes.ts'
import type { ImapSession } from './session.ts'

export async function mailboxValidator (session: ImapSession, path: string): Promise<string | null> {
  const state = await modseqState(session, path)
  return state === null ? null : [state.validity, state.modseq, state.messages, state.uidNext].join(':')
}

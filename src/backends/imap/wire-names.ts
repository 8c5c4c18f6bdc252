/**
 * What the IMAP writers put on the wire and read back from a refusal:
 * mailbox paths in modified UTF-7 (RFC 3501 §5.1.3) unless the session
 * enabled UTF8=ACCEPT, JMAP keyword names as IMAP flags, and the response
 * codes of a tagged NO (RFC 5530) as the catalogue's codes.
 */
import iconv from 'iconv-lite'
import type { ImapFlow } from 'imapflow'
import { GatewayError } from '../../mail/errors.ts'
import { isRefusal, refusalCode } from './exec.ts'

const SYSTEM_FLAGS = new Map([['$seen', '\\Seen'], ['$flagged', '\\Flagged'], ['$answered', '\\Answered'], ['$draft', '\\Draft']])

/** `$seen` → `\Seen`; any other JMAP keyword is an IMAP keyword of the same name. */
export function imapFlagOf (keyword: string): string {
  return SYSTEM_FLAGS.get(keyword) ?? keyword
}

/** The mailbox name as the server wants it on the wire. */
export function encodeMailboxPath (client: ImapFlow, path: string): string {
  if (client.enabled.has('UTF8=ACCEPT') || !/[^\x20-\x25\x27-\x7e]/.test(path)) return path
  return iconv.encode(path, 'utf-7-imap').toString('latin1')
}

/** A refusal the catalogue has a code for (quota, size, name taken, no such mailbox, never possible there); null for the rest. */
export function refusalOf (err: unknown): GatewayError | null {
  const cause = { cause: err }
  if (!isRefusal(err)) return null
  switch (refusalCode(err)) {
    case 'OVERQUOTA': return new GatewayError('over-quota', 'the mailbox is over its quota', cause)
    case 'TOOBIG': case 'LIMIT': return new GatewayError('payload-too-large', 'the mail server refused the message as too large', cause)
    case 'ALREADYEXISTS': return new GatewayError('already-exists', 'a mailbox of that name already exists', cause)
    case 'NONEXISTENT': case 'TRYCREATE': return new GatewayError('not-found', 'no such mailbox', cause)
    // RFC 5530: the operation violates an invariant of the server and can never succeed there
    case 'CANNOT': return new GatewayError('unsupported', 'the mail server cannot do this', cause)
    default: return null
  }
}

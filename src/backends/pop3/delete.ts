/**
 * Deleting messages from a maildrop (RFC 1939 §5–6), on an exclusive session
 * (a login of its own: its QUIT commits every mark on the connection): UIDL →
 * message number from that session's list, `DELE` each, then `QUIT`. The
 * server removes them only as it answers +OK to QUIT; a session that ends any
 * other way removes nothing. So this resolves only after that +OK, and every
 * failure before it (a refused DELE, a drop, a timeout, -ERR to QUIT) rejects:
 * the caller is told the delete failed, never that it happened. All the
 * messages of one call commit together or none does.
 */
import type { AccountContext, MessageKey } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { PerKey } from '../../mail/writers.ts'
import { operationTimeoutMs } from '../../util/operation-timeout.ts'
import { withDeadline } from '../deadline.ts'
import { INBOX } from './read.ts'
import type { MaildropSessions } from './sessions.ts'

export async function deleteMessages (sessions: MaildropSessions, ctx: AccountContext, keys: MessageKey[], timeoutMs: number): Promise<PerKey<null>> {
  return await sessions.exclusive(ctx.settings, async (session) => await withDeadline((async () => {
    const snap = await session.snapshot()
    const numbers = keys.map(k => k.mailbox === INBOX && k.validity === null ? snap.byUid.get(k.key) ?? null : null)
    // pipelined where the server offers PIPELINING, else queued on the one connection
    await Promise.all([...new Set(numbers.filter((n): n is number => n !== null))].map(n => session.client.dele(n)))
    return numbers.map(n => n === null ? new GatewayError('not-found', 'no such message in this maildrop') : null)
  })(), operationTimeoutMs(timeoutMs), () => session.client.destroy()))
}

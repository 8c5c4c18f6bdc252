import { eventId, type MailEvent } from '../../src/mail/events.ts'

/** A message.created event of `account` whose state moves from n to n+1. */
export function sampleEvent (account: string, n: number, mailboxId = 'mb1'): MailEvent {
  const before = `s${n}`
  const after = `s${n + 1}`
  return {
    id: eventId({ accountId: account, mailboxId, type: 'message.created', before, after }),
    type: 'message.created',
    accountId: account,
    mailboxId,
    state: after,
    at: new Date(0).toISOString(),
    messageIds: [`m${n}`],
  }
}

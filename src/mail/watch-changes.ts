/**
 * The watchers' ChangeSource over the service's own `mailboxState` and
 * `changes` (changes.ts): by mailbox path instead of public id, and a 410
 * (the changes cannot be computed from that state) as a reset.
 */
import { isGatewayError } from './errors.ts'
import { encodeMailboxId } from './ids.ts'
import type { MailServiceApi } from './service-types.ts'
import type { ChangeSource } from './watch-source.ts'

export function serviceChangeSource (service: Pick<MailServiceApi, 'mailboxState' | 'changes'>): ChangeSource {
  return {
    state: (caller, path) => service.mailboxState(caller, encodeMailboxId(caller.account.id, path)),
    changes: async (caller, path, since, limit) => {
      try {
        return { kind: 'changes', changes: await service.changes(caller, encodeMailboxId(caller.account.id, path), { since, limit }) }
      } catch (err) {
        if (isGatewayError(err) && err.code === 'cannot-calculate-changes') return { kind: 'reset' }
        throw err
      }
    },
  }
}

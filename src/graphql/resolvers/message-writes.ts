/**
 * Mutation: message writes, one per REST write (contract §7). GraphQL has no
 * map type, so a keyword merge-patch arrives as `set` and `clear` lists and is
 * handed to the service as the same patch REST sends; batch results are data.
 * The POST writes (move, copy, batch) take `idempotencyKey`, REST's
 * Idempotency-Key.
 */
import { GatewayError } from '../../mail/errors.ts'
import { keyed } from '../idempotency.ts'
import type { BatchResult as BatchResultRecord } from '../../mail/service-types.ts'
import type { BatchResult, MutationResolvers } from '../generated.ts'

/** `set`/`clear` → RFC 7396 patch object (the service checks names and size). */
function patchOf (set: readonly string[] | null | undefined, clear: readonly string[] | null | undefined): Record<string, boolean> {
  const patch: Record<string, boolean> = Object.create(null) as Record<string, boolean>
  for (const name of set ?? []) patch[name] = true
  for (const name of clear ?? []) {
    if (patch[name] === true) throw new GatewayError('bad-request', 'a keyword is both set and cleared')
    patch[name] = false
  }
  return patch
}

function resultOf (r: BatchResultRecord): BatchResult {
  return {
    id: r.id,
    status: r.status,
    newId: r.newId ?? null,
    keywords: r.keywords ?? null,
    error: r.error === undefined ? null : { code: r.error.code, status: r.error.status, detail: r.error.message },
  }
}

export const MessageWriteMutations: MutationResolvers = {
  updateMessageKeywords: async (_root, { id, set, clear, ifMatch }, { gateway }) =>
    gateway.service.updateKeywords(await gateway.caller(), id, patchOf(set, clear), ifMatch == null ? {} : { ifMatch }),
  moveMessage: async (_root, { id, mailboxId, idempotencyKey }, { gateway }) => {
    const caller = await gateway.caller()
    return await keyed(gateway, caller, 'moveMessage', idempotencyKey, { id, mailboxId }, async () => await gateway.service.moveMessage(caller, id, mailboxId))
  },
  copyMessage: async (_root, { id, mailboxId, idempotencyKey }, { gateway }) => {
    const caller = await gateway.caller()
    return await keyed(gateway, caller, 'copyMessage', idempotencyKey, { id, mailboxId }, async () => await gateway.service.copyMessage(caller, id, mailboxId))
  },
  deleteMessage: async (_root, { id, permanent }, { gateway }) => gateway.service.deleteMessage(await gateway.caller(), id, { permanent: permanent === true }),
  batchMessages: async (_root, { input, idempotencyKey }, { gateway }) => {
    const { ids, action, set, clear, mailboxId, permanent } = input
    const caller = await gateway.caller()
    const batch = {
      ids,
      action,
      ...(action === 'update' ? { keywords: patchOf(set, clear) } : {}),
      ...(mailboxId == null ? {} : { mailboxId }),
      ...(permanent == null ? {} : { permanent }),
    }
    return await keyed(gateway, caller, 'batchMessages', idempotencyKey, batch,
      async () => ({ results: (await gateway.service.batchMessages(caller, batch)).map(resultOf) }))
  },
}

/**
 * Mutation: sendMessage (POST /v1/messages/send with a JSON body). GraphQL's
 * null means "absent"; the extra headers come as a list of name/value pairs
 * and reach the core's checks as the REST object does. `idempotencyKey` is
 * REST's Idempotency-Key over the same records (../idempotency.ts).
 */
import type { SendInput } from '../../mail/send-input.ts'
import type { MutationResolvers, SendMessageInput } from '../generated.ts'
import { keyed } from '../idempotency.ts'

type Resolvers = Pick<MutationResolvers, 'sendMessage'>

function toSendInput (input: SendMessageInput): SendInput {
  const out: SendInput = {}
  for (const [name, value] of Object.entries(input)) {
    if (value === null || value === undefined) continue
    if (name === 'headers') {
      const list = value as Array<{ name: string, value: string }>
      out.headers = Object.fromEntries(list.map(h => [h.name, h.value]))
    } else (out as Record<string, unknown>)[name] = value
  }
  return out
}

export const SendMutations: Resolvers = {
  sendMessage: async (_root, { input, idempotencyKey }, { gateway }) => {
    const draft = toSendInput(input)
    const caller = await gateway.caller()
    return await keyed(gateway, caller, 'sendMessage', idempotencyKey, draft, async (commit) => await gateway.service.sendMessage(caller, {
      draft,
      ...(input.saveToSent == null ? {} : { saveToSent: input.saveToSent }),
      onCommit: commit,
    }))
  },
}

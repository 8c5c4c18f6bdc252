/**
 * `idempotencyKey` of the GraphQL POST writes: REST's Idempotency-Key over
 * the same records (src/mail/idempotent-call.ts), the mutation's name and
 * arguments as the request's fingerprint.
 */
import { idempotentCall } from '../mail/idempotent-call.ts'
import type { Caller } from '../mail/service-types.ts'
import type { GatewayContext } from './context.ts'

export async function keyed<T> (gateway: GatewayContext, caller: Caller, mutation: string, key: string | null | undefined, input: unknown,
  run: (commit: () => Promise<void>) => Promise<T>): Promise<T> {
  return await idempotentCall(gateway.service.idempotency, { accountId: caller.account.id, key, operation: `graphql ${mutation}`, input }, run)
}

/**
 * Cold reads of one mailbox that wait for a connection at the same time share
 * one FETCH. A read that finds a batch for its credentials and mailbox still
 * waiting for its lease joins it (up to MAX_BATCH_KEYS ids); the batch closes
 * the moment its lease starts. Uncontended, a read runs alone as before; under
 * load (more readers than pooled connections) N reads cost one round trip and
 * one command instead of N.
 *
 * A batch never mixes credentials (the key includes the settings' credential
 * hash). Ids of another UIDVALIDITY are left out of the FETCH and fail only the
 * read that asked for them (stale-id). What the reads of a batch share is the
 * lease: an upstream failure or the operation's deadline fails every read of
 * it, and a read waits for the others' messages too (a large one is streamed
 * within the lease), bounded by MAX_BATCH_KEYS.
 *
 * The parse budget is never waited for under the lease: a batch it refuses
 * gives the connection back, waits (awaitBudget), and leases again.
 */
import type { AccountContext, MessageKey, MessageRecord } from '../../mail/backend.ts'
import type { ByteBudget, Permit } from '../../util/byte-budget.ts'
import { withinBudget } from '../budget-wait.ts'
import { settingsKey } from '../settings-key.ts'
import type { ImapConnections } from './connections.ts'
import { checkValidity, fetchMessagesIn, PER_FETCH, recordsOf } from './get-messages.ts'
import type { Fetched } from './get-messages.ts'

/** Most ids one batch takes: what one FETCH command carries (at most 32 MiB of messages up to 1 MiB). */
export const MAX_BATCH_KEYS = PER_FETCH

interface BatchResult { validity: string, records: Map<number, MessageRecord> }

interface Batch {
  keys: MessageKey[]
  done: Promise<BatchResult>
}

export class FetchBatches {
  readonly #waiting = new Map<string, Batch>()
  /** Reads that joined a batch another read started (for tests and stats). */
  joined = 0

  constructor (private readonly conns: ImapConnections, private readonly budget: ByteBudget) {}

  /**
   * The records of `keys` (one mailbox), by UID; absent UIDs are missing messages.
   * More keys than a batch takes are read as several batches, so no batch holds
   * more unbudgeted prefixes than one FETCH carries (a page of 200 bodies had held 50 MiB).
   */
  async read (ctx: AccountContext, path: string, keys: MessageKey[]): Promise<Map<number, MessageRecord>> {
    if (keys.length <= MAX_BATCH_KEYS) return await this.#readBatch(ctx, path, keys)
    const parts: Array<Promise<Map<number, MessageRecord>>> = []
    for (let i = 0; i < keys.length; i += MAX_BATCH_KEYS) parts.push(this.#readBatch(ctx, path, keys.slice(i, i + MAX_BATCH_KEYS)))
    return new Map((await Promise.all(parts)).flatMap(m => [...m]))
  }

  async #readBatch (ctx: AccountContext, path: string, keys: MessageKey[]): Promise<Map<number, MessageRecord>> {
    const id = `${settingsKey(ctx.settings).key}\0${path}`
    const open = this.#waiting.get(id)
    let batch: Batch
    if (open !== undefined && open.keys.length + keys.length <= MAX_BATCH_KEYS) {
      open.keys.push(...keys)
      this.joined++
      batch = open
    } else {
      batch = this.#start(id, ctx, path, keys)
    }
    const { validity, records } = await batch.done
    checkValidity(keys, validity) // this read's stale ids fail this read only
    return records
  }

  #start (id: string, ctx: AccountContext, path: string, first: MessageKey[]): Batch {
    const keys = [...first]
    const close = (): void => { if (this.#waiting.get(id) === batch) this.#waiting.delete(id) }
    const done = (async (): Promise<BatchResult> => {
      await Promise.resolve() // the batch is registered (below) before anything runs
      // held from the first FETCH's sizes until the records are built (small
      // messages are parsed after the lease is returned)
      const permit = this.budget.permit(ctx.accountId)
      try {
        const fetched = await this.#fetch(ctx, path, keys, permit, close)
        return { validity: fetched.validity, records: await recordsOf(path, fetched) }
      } finally {
        close()
        permit.release()
      }
    })()
    const batch: Batch = { keys, done }
    this.#waiting.set(id, batch)
    return batch
  }

  /** Under a lease, with the budget held; refused it, the lease goes back for the wait (withinBudget). */
  async #fetch (ctx: AccountContext, path: string, keys: MessageKey[], permit: Permit, close: () => void): Promise<Fetched> {
    return await withinBudget(permit, async () => await this.conns.run(ctx.settings, async s => {
      close()
      // a retry after a dropped connection keeps what the permit holds: it never waits under the lease
      return await fetchMessagesIn(s, path, keys, permit)
    }))
  }
}

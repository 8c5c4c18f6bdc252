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
 * it not answered yet.
 *
 * A batch holds no more records than it must: each large message (streamed
 * within the lease, one at a time) answers the reads waiting for it the moment
 * it is parsed, and a read is answered once it has all its records. Only the
 * small messages (≤ 1 MiB each, parsed after the lease) are answered together
 * at the end. Holding every record until the batch ended had kept twelve 5.7 MB
 * messages' decoded bodies alive at once.
 *
 * The parse budget is never waited for under the lease: a batch it refuses
 * gives the connection back, waits (awaitBudget), and leases again.
 */
import type { AccountContext, MessageKey, MessageRecord } from '../../mail/backend.ts'
import type { ByteBudget, Permit } from '../../util/byte-budget.ts'
import { withinBudget } from '../budget-wait.ts'
import { settingsKey } from '../settings-key.ts'
import type { ImapConnections } from './connections.ts'
import { checkValidity, fetchMessagesIn, PER_FETCH, recordsOf, uidOf } from './get-messages.ts'
import type { Fetched } from './get-messages.ts'

/** Most ids one batch takes: what one FETCH command carries (at most 32 MiB of messages up to 1 MiB). */
export const MAX_BATCH_KEYS = PER_FETCH

/** One read waiting on a batch: answered once every UID it asked for has its record, or when the batch ends. */
interface Reader {
  keys: MessageKey[]
  /** UIDs still without a record, each with the UIDVALIDITY its id names */
  waiting: Map<number, string | null>
  got: Map<number, MessageRecord>
  settled: boolean
  resolve: (records: Map<number, MessageRecord>) => void
  reject: (err: unknown) => void
}

interface Batch {
  keys: MessageKey[]
  readers: Reader[]
}

/** Hand `record` (of `uid` under `validity`) to every read of `batch` waiting for it; answer those now complete. */
function deliver (batch: Batch, validity: string, uid: number, record: MessageRecord): void {
  for (const r of batch.readers) {
    if (r.settled || r.waiting.get(uid) !== validity) continue
    r.got.set(uid, record)
    r.waiting.delete(uid)
    if (r.waiting.size === 0) settle(r, validity)
  }
}

function settle (r: Reader, validity: string): void {
  if (r.settled) return
  r.settled = true
  try {
    checkValidity(r.keys, validity) // this read's stale ids fail this read only
    r.resolve(r.got)
  } catch (err) {
    r.reject(err)
  }
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
    return await new Promise<Map<number, MessageRecord>>((resolve, reject) => {
      const waiting = new Map<number, string | null>()
      for (const k of keys) {
        const uid = uidOf(k)
        if (uid !== null) waiting.set(uid, k.validity)
      }
      batch.readers.push({ keys, waiting, got: new Map(), settled: false, resolve, reject })
    })
  }

  #start (id: string, ctx: AccountContext, path: string, first: MessageKey[]): Batch {
    const batch: Batch = { keys: [...first], readers: [] }
    const close = (): void => { if (this.#waiting.get(id) === batch) this.#waiting.delete(id) }
    const run = async (): Promise<void> => {
      await Promise.resolve() // the batch is registered (below) before anything runs
      // held from the first FETCH's sizes until the records are built (small
      // messages are parsed after the lease is returned)
      const permit = this.budget.permit(ctx.accountId)
      try {
        const fetched = await this.#fetch(ctx, path, batch, permit, close)
        for (const [uid, record] of await recordsOf(path, fetched)) deliver(batch, fetched.validity, uid, record)
        // what is still waiting is missing (or named by a stale id)
        for (const r of batch.readers) settle(r, fetched.validity)
      } catch (err) {
        for (const r of batch.readers) if (!r.settled) { r.settled = true; r.reject(err) }
      } finally {
        close()
        permit.release()
      }
    }
    run().catch(() => undefined) // never rejects: every failure is handed to the readers above
    this.#waiting.set(id, batch)
    return batch
  }

  /** Under a lease, with the budget held; refused it, the lease goes back for the wait (withinBudget). */
  async #fetch (ctx: AccountContext, path: string, batch: Batch, permit: Permit, close: () => void): Promise<Fetched> {
    return await withinBudget(permit, async () => await this.conns.run(ctx.settings, async s => {
      close()
      // a retry after a dropped connection keeps what the permit holds: it never waits under the lease
      return await fetchMessagesIn(s, path, batch.keys, permit, (uid, record, validity) => { deliver(batch, validity, uid, record) })
    }))
  }
}

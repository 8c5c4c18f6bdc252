// A ChangeSource for watcher tests that do not exercise `changes` itself: a state is a
// snapshot of (UIDVALIDITY, UID → flags) read by a direct imapflow client, kept in memory,
// and `changes` diffs the current snapshot against it. Slow and unbounded, but obviously
// right, so a failure points at the watchers.
import { randomBytes } from 'node:crypto'
import { encodeMessageId } from '../../src/mail/ids.ts'
import type { Caller } from '../../src/mail/service-types.ts'
import type { ChangeSource, ChangesOutcome } from '../../src/mail/watch-source.ts'
import { directClient } from '../imap/helpers.ts'

interface Snapshot { validity: string, flags: Map<number, string> }

export class SnapshotSource implements ChangeSource {
  readonly #snapshots = new Map<string, Snapshot>()
  readonly #user: { username: string, password: string }
  /** changes() calls so far. */
  calls = 0

  constructor (user: { username: string, password: string }) {
    this.#user = user
  }

  async #take (path: string): Promise<Snapshot> {
    const client = await directClient(this.#user)
    try {
      const box = await client.mailboxOpen(path, { readOnly: true })
      const flags = new Map<number, string>()
      if (box.exists > 0) {
        for await (const m of client.fetch('1:*', { uid: true, flags: true })) flags.set(m.uid, [...(m.flags ?? [])].sort().join(' '))
      }
      return { validity: String(box.uidValidity), flags }
    } finally {
      await client.logout().catch(() => {})
    }
  }

  #save (snapshot: Snapshot): string {
    const id = randomBytes(6).toString('hex')
    this.#snapshots.set(id, snapshot)
    return id
  }

  async state (_caller: Caller, path: string): Promise<string | null> {
    return this.#save(await this.#take(path))
  }

  async changes (caller: Caller, path: string, since: string): Promise<ChangesOutcome> {
    this.calls++
    const old = this.#snapshots.get(since)
    if (old === undefined) throw new Error('unknown state')
    const now = await this.#take(path)
    if (now.validity !== old.validity) return { kind: 'reset' }
    const id = (uid: number): string => encodeMessageId(caller.account.id, { mailbox: path, validity: now.validity, key: String(uid) })
    const created = [...now.flags.keys()].filter(uid => !old.flags.has(uid))
    const updated = [...now.flags.keys()].filter(uid => old.flags.has(uid) && old.flags.get(uid) !== now.flags.get(uid))
    const destroyed = [...old.flags.keys()].filter(uid => !now.flags.has(uid))
    const keywords = Object.fromEntries(updated.map(uid => [id(uid), (now.flags.get(uid) ?? '').split(' ').filter(f => f !== '')]))
    const newState = this.#save(now)
    return { kind: 'changes', changes: { oldState: since, newState, hasMoreChanges: false, created: created.map(id), updated: updated.map(id), destroyed: destroyed.map(id), keywords } }
  }
}

/**
 * This instance's copy of the shared revocation list, so that checking a
 * token costs no Redis round trip.
 *
 * The list carries a revision (`~rev`, bumped by every revocation in the same
 * script that adds it and publishes `r <member> <until> <rev>`). The copy is
 * loaded whole (ZRANGEBYSCORE: an atomic snapshot with its revision), then fed
 * by the Pub/Sub messages, and reloaded every `resyncMs`, whenever its
 * subscriber reconnects, and whenever a revision is missing.
 *
 * The bound: every `boundMs / 4` the instance publishes a heartbeat through
 * the set's node, which appends the list's current revision. When its own
 * heartbeat comes back and the copy holds every revision up to that one, the
 * copy is confirmed complete as of the heartbeat's sending time. `lookup`
 * answers only while the last confirmation is younger than `boundMs`, else
 * returns undefined and the caller asks Redis (and refuses the token when
 * Redis cannot answer). So a revocation acknowledged at time T is refused by
 * every instance from T + boundMs on, whether messages were lost, reordered
 * (Redis Cluster) or the subscriber was cut off; normally within a millisecond.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'

export interface MirrorOptions {
  /** A revocation on any instance is honoured here within this many ms. Default 1 000. */
  boundMs?: number
  /** Full reload period (ms); also how long a legacy-key check is trusted. Default 60 000. */
  resyncMs?: number
}

export interface MirrorSource {
  /** A new connection for SUBSCRIBE (a duplicate of the store's client). */
  subscriber: () => Redis
  channel: string
  /** Every unexpired [member, until ms] pair of the set, `~rev` included. */
  load: () => Promise<Array<[string, number]>>
  /** Publishes `message` + ' ' + the list's revision, from the set's node. */
  ping: (message: string) => Promise<void>
}

export const REV_MEMBER = '~rev'
/** `~rev`'s score is REV_BASE + revision: always beyond any expiry, so never pruned. */
export const REV_BASE = 1e15
const LEGACY_MEMO_MAX = 100_000

export class RevocationMirror {
  readonly #members = new Map<string, number>()
  /** Revisions received beyond the contiguous one (a message arrived before an earlier one). */
  readonly #ahead = new Set<number>()
  readonly #legacy = new Map<string, { revoked: boolean, at: number }>()
  readonly #pending = new Map<number, number>()
  readonly #instance = randomUUID()
  readonly #boundMs: number
  readonly #resyncMs: number
  readonly #timers: NodeJS.Timeout[]
  readonly #sub: Redis
  /** Every revision up to this one is in the copy (-1: not loaded yet). */
  #rev = -1
  #confirmedAt = -Infinity
  #seq = 0
  #loading: Promise<void> | null = null
  #closed = false

  constructor (private readonly source: MirrorSource, opts: MirrorOptions = {}) {
    this.#boundMs = opts.boundMs ?? 1000
    this.#resyncMs = opts.resyncMs ?? 60_000
    this.#sub = source.subscriber()
    this.#sub.on('error', () => {})
    this.#sub.on('ready', () => {
      this.#sub.subscribe(source.channel).then(() => { this.#reload() }, () => {})
    })
    this.#sub.on('message', (_channel: string, message: string) => { this.#message(message) })
    this.#timers = [
      setInterval(() => { this.#ping() }, Math.max(10, this.#boundMs / 4)),
      setInterval(() => { this.#reload() }, this.#resyncMs),
    ]
    for (const t of this.#timers) t.unref()
  }

  /** true/false from the copy; undefined when the copy is not known to be current (ask Redis). */
  lookup (member: string): boolean | undefined {
    const now = performance.now()
    if (now - this.#confirmedAt > this.#boundMs) return undefined
    const until = this.#members.get(member)
    if (until !== undefined && until > Date.now()) return true
    const legacy = this.#legacy.get(member)
    if (legacy === undefined || now - legacy.at > this.#resyncMs) return undefined
    return legacy.revoked
  }

  /**
   * The copy as last loaded and fed, however old (undefined: never loaded).
   * For when Redis cannot be asked: no revocation can be acknowledged while
   * Redis is unreachable, so against a whole outage the last copy is complete
   * but for what was acknowledged in its last moments (within the bound).
   */
  lastKnown (member: string): boolean | undefined {
    if (this.#rev < 0) return undefined
    const until = this.#members.get(member)
    if (until !== undefined && until > Date.now()) return true
    return this.#legacy.get(member)?.revoked ?? false
  }

  /** A revocation this instance stored. */
  learn (member: string, untilMs: number): void {
    this.#members.set(member, Math.max(untilMs, this.#members.get(member) ?? 0))
  }

  /** The outcome of a read of the pre-sorted-set key (redis-revocations.ts), trusted for `resyncMs`. */
  legacyChecked (member: string, revoked: boolean): void {
    if (this.#legacy.size >= LEGACY_MEMO_MAX) this.#legacy.clear()
    this.#legacy.set(member, { revoked, at: performance.now() })
  }

  /** Whether the copy is confirmed current now (tests, stats). */
  current (): boolean {
    return performance.now() - this.#confirmedAt <= this.#boundMs
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    for (const t of this.#timers) clearInterval(t)
    this.#sub.disconnect()
  }

  #message (message: string): void {
    const [kind, a = '', b = '', c = ''] = message.split(' ')
    if (kind === 'r') {
      this.learn(a, Number(b))
      this.#advance(Number(c))
    } else if (kind === 'p' && a === this.#instance) {
      const sentAt = this.#pending.get(Number(b))
      this.#pending.delete(Number(b))
      const rev = Number(c) - REV_BASE
      if (sentAt === undefined || !Number.isFinite(rev)) return
      // a heartbeat that names a revision the copy lacks: a message was lost (or is still on its way)
      if (this.#rev >= rev) this.#confirmedAt = Math.max(this.#confirmedAt, sentAt)
      else this.#reload()
    }
  }

  /** A revision received; the copy's own advances while they are contiguous (a gap waits for a reload). */
  #advance (score: number): void {
    const rev = score - REV_BASE
    if (Number.isFinite(rev) && rev > this.#rev) this.#ahead.add(rev)
    this.#drain()
  }

  #drain (): void {
    while (this.#ahead.delete(this.#rev + 1)) this.#rev++
    for (const r of this.#ahead) if (r <= this.#rev) this.#ahead.delete(r)
  }

  #ping (): void {
    if (this.#closed || this.#sub.status !== 'ready') return
    const seq = ++this.#seq
    const now = performance.now()
    this.#pending.set(seq, now)
    for (const [s, at] of this.#pending) if (now - at > this.#boundMs) this.#pending.delete(s)
    this.source.ping(`p ${this.#instance} ${seq}`).catch(() => { this.#pending.delete(seq) })
  }

  #reload (): void {
    if (this.#closed || this.#loading !== null) return
    this.#loading = this.source.load().then((entries) => {
      const now = Date.now()
      let rev = -1
      for (const [member, until] of entries) {
        if (member === REV_MEMBER) rev = until - REV_BASE
        else this.learn(member, until)
      }
      for (const [member, until] of this.#members) if (until <= now) this.#members.delete(member)
      // no revision yet in Redis: nothing was ever added by this layout (0 stands for "empty")
      this.#rev = Math.max(this.#rev, rev < 0 ? 0 : rev)
      this.#drain()
    }, () => {}).finally(() => { this.#loading = null })
  }
}

/**
 * Sets of UIDs as sorted, disjoint [low, high] ranges, so a SEARCH over a big
 * mailbox (ESEARCH ALL "1:90000") is counted and paged without expanding it.
 */
export type Range = [number, number]

export class UidSet {
  readonly ranges: Range[]

  private constructor (ranges: Range[]) {
    this.ranges = ranges
  }

  static fromList (uids: Iterable<number>): UidSet {
    return UidSet.normalise([...uids].filter(u => Number.isInteger(u) && u > 0).map(u => [u, u]))
  }

  /** An IMAP sequence-set of UIDs ("1:5,7,9:12"); '*' is not accepted here. */
  static fromSequence (seq: string): UidSet {
    const ranges: Range[] = []
    for (const part of seq.split(',')) {
      if (part === '') continue
      const m = /^(\d+)(?::(\d+))?$/.exec(part.trim())
      if (m === null) throw new Error('malformed UID set')
      const a = Number(m[1])
      const b = m[2] === undefined ? a : Number(m[2])
      ranges.push([Math.min(a, b), Math.max(a, b)])
    }
    return UidSet.normalise(ranges)
  }

  static normalise (ranges: Range[]): UidSet {
    const sorted = ranges.slice().sort((x, y) => x[0] - y[0])
    const out: Range[] = []
    for (const [lo, hi] of sorted) {
      const last = out[out.length - 1]
      if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi)
      else out.push([lo, hi])
    }
    return new UidSet(out)
  }

  get size (): number {
    return this.ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0)
  }

  has (uid: number): boolean {
    let lo = 0
    let hi = this.ranges.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const r = this.ranges[mid]!
      if (uid < r[0]) hi = mid - 1
      else if (uid > r[1]) lo = mid + 1
      else return true
    }
    return false
  }

  union (other: UidSet): UidSet {
    return UidSet.normalise([...this.ranges, ...other.ranges].map(([a, b]) => [a, b]))
  }

  /** Members of this set that are not in `other`, expanded (callers keep this small). */
  minusList (other: UidSet, max: number): number[] {
    const out: number[] = []
    for (const [lo, hi] of this.ranges) {
      for (let u = lo; u <= hi; u++) {
        if (other.has(u)) continue
        if (out.length >= max) throw new Error('too many UIDs')
        out.push(u)
      }
    }
    return out
  }

  /** Up to `n` members below `below` (exclusive; null = no bound), highest first. */
  descending (n: number, below: number | null): number[] {
    const out: number[] = []
    for (let i = this.ranges.length - 1; i >= 0 && out.length < n; i--) {
      const [lo, hi] = this.ranges[i]!
      const top = below === null ? hi : Math.min(hi, below - 1)
      for (let u = top; u >= lo && out.length < n; u--) out.push(u)
    }
    return out
  }
}

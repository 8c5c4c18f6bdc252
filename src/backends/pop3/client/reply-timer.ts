/**
 * A connection's reply timing. Inactivity: one timer, refreshed whenever bytes
 * or a reply arrive, and off while nothing is awaited or a slow consumer holds
 * the socket paused (the caller decides which, see Pop3Connection#refreshTimer).
 * Deadline: a reply may take at most `deadlineMs` from its start, however
 * steadily it drips (every byte restarts the inactivity timer); the caller asks
 * `overdue()` as bytes arrive and exempts replies streamed to a consumer.
 */
export class ReplyTimer {
  private timer: NodeJS.Timeout | null = null
  private startedAt = Date.now()
  private readonly ms: number
  private readonly deadlineMs: number
  private readonly onTimeout: () => void

  constructor (ms: number, deadlineMs: number, onTimeout: () => void) {
    this.ms = ms
    this.deadlineMs = deadlineMs
    this.onTimeout = onTimeout
  }

  /** A reply starts now (the first in flight, or the next after one ended). */
  begin (): void {
    this.startedAt = Date.now()
  }

  overdue (): boolean {
    return Date.now() - this.startedAt > this.deadlineMs
  }

  /** Restarts the countdown when `waiting`; stops it otherwise. */
  refresh (waiting: boolean): void {
    if (!waiting) {
      this.clear()
      return
    }
    if (this.timer !== null) {
      this.timer.refresh()
      return
    }
    this.timer = setTimeout(this.onTimeout, this.ms)
    this.timer.unref()
  }

  clear (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}

/**
 * A connection's reply timeout: one timer, refreshed whenever bytes or a reply
 * arrive, and off while nothing is awaited or a slow consumer holds the socket
 * paused (the caller decides which, see Pop3Connection#refreshTimer).
 */
export class ReplyTimer {
  private timer: NodeJS.Timeout | null = null
  private readonly ms: number
  private readonly onTimeout: () => void

  constructor (ms: number, onTimeout: () => void) {
    this.ms = ms
    this.onTimeout = onTimeout
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

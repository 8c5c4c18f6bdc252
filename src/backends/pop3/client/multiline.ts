/**
 * Multi-line response body decoder (RFC 1939 §3): removes the byte-stuffed
 * leading dot of every line and finds the `CRLF.CRLF` terminator wherever the
 * bytes are split across reads — one byte per chunk included.
 *
 * A byte-level state machine over Buffers: never decodes text, so 8-bit mail
 * stays exact. The line break before the terminator belongs to the message and
 * is kept. Line ends are strict CRLF; a bare LF is content, so a stray `\n.`
 * inside a line is never mistaken for a line start.
 */

const CR = 13
const LF = 10
const DOT = 46
const CR_BUF = Buffer.from([CR])

const enum State {
  /** At the first byte of a line. */
  LineStart,
  /** Inside a line. */
  InLine,
  /** Just after a CR inside a line. */
  Cr,
  /** After a dot at a line start (the dot is held back: stuffing or terminator). */
  Dot,
  /** After `.` CR at a line start (the CR is held back). */
  DotCr,
}

export class DotDecoder {
  private state = State.LineStart
  private readonly sink: (chunk: Buffer) => void

  /** `sink` receives the unstuffed body in order, as views of the input chunks. */
  constructor (sink: (chunk: Buffer) => void) {
    this.sink = sink
  }

  /**
   * Feeds one chunk. Returns undefined while the body continues; once the
   * terminator is seen, returns the bytes that followed it (possibly empty),
   * which belong to the next response.
   */
  feed (chunk: Buffer): Buffer | undefined {
    let runStart = 0
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]
      switch (this.state) {
        case State.LineStart:
          if (b === DOT) {
            this.flush(chunk, runStart, i)
            runStart = i + 1
            this.state = State.Dot
          } else {
            this.state = b === CR ? State.Cr : State.InLine
          }
          break
        case State.InLine:
          if (b === CR) this.state = State.Cr
          break
        case State.Cr:
          this.state = b === LF ? State.LineStart : b === CR ? State.Cr : State.InLine
          break
        case State.Dot:
          if (b === CR) {
            runStart = i + 1
            this.state = State.DotCr
          } else {
            // A stuffed (or stray) leading dot: dropped; this byte is content.
            this.state = State.InLine
          }
          break
        case State.DotCr:
          if (b === LF) {
            this.state = State.LineStart
            return chunk.subarray(i + 1)
          }
          // `.` CR x: the dot was stuffing and the held CR is content.
          this.sink(CR_BUF)
          runStart = i
          this.state = b === CR ? State.Cr : State.InLine
          break
      }
    }
    this.flush(chunk, runStart, chunk.length)
    return undefined
  }

  private flush (chunk: Buffer, from: number, to: number): void {
    if (to > from) this.sink(chunk.subarray(from, to))
  }
}

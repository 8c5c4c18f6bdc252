/**
 * Incremental, synchronous Content-Transfer-Encoding decoders. Synchronous so the
 * tree walker can count decoded octets and hand them on without stream juggling;
 * the same decoder serves parseMessage (sizes) and extractPart (bytes), so the
 * two always agree. Lenient: junk characters in base64 are skipped, a bad "=XX"
 * in quoted-printable is kept literally; unknown encodings (x-uuencode, "7-bit",
 * "plain", …) pass through unchanged.
 */
import { trimEndWhere, withoutComment } from './linear-text.ts'

export interface Decoder {
  write: (chunk: Buffer) => Buffer
  end: () => Buffer
}

const EMPTY = Buffer.alloc(0)

const B64 = new Int16Array(256).fill(-1)
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => { B64[c.charCodeAt(0)] = i })
B64['-'.charCodeAt(0)] = 62 // base64url, seen in the wild
B64['_'.charCodeAt(0)] = 63

/** Runs shorter than this go through the loop: the native call's set-up costs more than it saves. */
const NATIVE_MIN = 512

/**
 * Base64 in two gears with one result. The loop reads every character (junk
 * skipped, "=" ends a quantum). Long runs with no "=" and no junk (nearly every
 * real attachment) are decoded natively, about twice as fast: line breaks are
 * dropped, whole quanta go to Buffer#write, and a quantum left open carries over
 * to the next chunk. Node's decoder would also skip junk, but it stops at "=",
 * so "=" and any run with junk stay with the loop.
 */
class Base64Decoder implements Decoder {
  /** 6-bit values of a quantum begun and not yet emitted (0–3 of them). */
  private readonly q = new Uint8Array(4)
  private k = 0

  write (chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(Math.ceil((chunk.length + this.k) * 3 / 4) + 3)
    let o = 0
    let i = 0
    while (i < chunk.length) {
      if (this.k !== 0) {
        // a begun quantum is closed character by character, so a native run starts aligned
        o = this.loop(chunk, i, i + 1, out, o)
        i++
        continue
      }
      const pad = chunk.indexOf(0x3d, i)
      const stop = pad === -1 ? chunk.length : pad
      if (stop - i >= NATIVE_MIN) {
        const n = this.native(chunk, i, stop, out, o)
        if (n >= 0) {
          o = n
          i = stop
          continue
        }
      }
      // a short run or one with junk: the loop reads it, and the "=" after it
      const end = pad === -1 ? chunk.length : pad + 1
      o = this.loop(chunk, i, end, out, o)
      i = end
    }
    return out.subarray(0, o)
  }

  end (): Buffer {
    const out = Buffer.allocUnsafe(3)
    const o = this.flush(out, 0)
    this.k = 0
    return o === 0 ? EMPTY : out.subarray(0, o)
  }

  /** The bytes a begun quantum holds (2 values: 1 byte, 3 values: 2 bytes; 1 value: none). */
  private flush (out: Buffer, o: number): number {
    const q = this.q
    if (this.k >= 2) out[o++] = (q[0]! << 2) | (q[1]! >> 4)
    if (this.k === 3) out[o++] = ((q[1]! & 0x0f) << 4) | (q[2]! >> 2)
    return o
  }

  /** Characters from..to one at a time; the new output offset. */
  private loop (chunk: Buffer, from: number, to: number, out: Buffer, o: number): number {
    const q = this.q
    for (let i = from; i < to; i++) {
      const c = chunk[i] as number
      if (c === 0x3d) { // '=': padding ends the quantum; its complete bytes stay, leftover bits go
        o = this.flush(out, o)
        this.k = 0
        continue
      }
      const v = B64[c] as number
      if (v < 0) continue
      q[this.k++] = v
      if (this.k === 4) {
        out[o++] = (q[0]! << 2) | (q[1]! >> 4)
        out[o++] = ((q[1]! & 0x0f) << 4) | (q[2]! >> 2)
        out[o++] = ((q[2]! & 0x03) << 6) | q[3]!
        this.k = 0
      }
    }
    return o
  }

  /** from..to natively (no "=" in it; called with no quantum begun); -1 when the run holds junk. */
  private native (chunk: Buffer, from: number, to: number, out: Buffer, o: number): number {
    let text = chunk.toString('latin1', from, to)
    if (text.includes('\r')) text = text.replaceAll('\r\n', '')
    if (text.includes('\n')) text = text.replaceAll('\n', '')
    const whole = text.length - (text.length % 4)
    // Node skips junk silently: then fewer octets come out than whole quanta make,
    // and the loop reads the run instead (what was written past o is overwritten)
    if (out.write(whole === text.length ? text : text.slice(0, whole), o, 'base64') !== whole / 4 * 3) return -1
    // the open quantum's 0–3 values carry over (no quantum was begun before the run)
    for (let j = whole; j < text.length; j++) {
      const v = B64[text.charCodeAt(j)] as number
      if (v < 0) {
        this.k = 0
        return -1
      }
      this.q[this.k++] = v
    }
    return o + whole / 4 * 3
  }
}

const hex = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1

class QuotedPrintableDecoder implements Decoder {
  private carry: Buffer = EMPTY

  write (chunk: Buffer): Buffer {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk
    this.carry = EMPTY
    const out = Buffer.allocUnsafe(buf.length)
    let o = 0
    let i = 0
    while (i < buf.length) {
      const c = buf[i] as number
      if (c !== 0x3d) { out[o++] = c; i++; continue }
      // need up to 2 more bytes to decide
      if (i + 2 >= buf.length && !(i + 1 < buf.length && buf[i + 1] === 0x0a)) {
        this.carry = Buffer.from(buf.subarray(i))
        break
      }
      const a = buf[i + 1] as number
      const b = buf[i + 2] as number
      if (a === 0x0a) { i += 2; continue } // soft break "=\n"
      if (a === 0x0d && b === 0x0a) { i += 3; continue } // soft break "=\r\n"
      const h = hex(a)
      const l = hex(b)
      if (h >= 0 && l >= 0) { out[o++] = (h << 4) | l; i += 3; continue }
      out[o++] = c // not an escape: keep "=" literally
      i++
    }
    return out.subarray(0, o)
  }

  end (): Buffer {
    const rest = this.carry
    this.carry = EMPTY
    // a trailing "=" (soft break at the very end) decodes to nothing
    return rest.length && !(rest.length === 1 || (rest.length === 2 && rest[1] === 0x0d)) ? rest : EMPTY
  }
}

class IdentityDecoder implements Decoder {
  write (chunk: Buffer): Buffer { return chunk }
  end (): Buffer { return EMPTY }
}

/** Decoder for a Content-Transfer-Encoding value (already lowercased/trimmed or raw). */
export function createDecoder (encoding: string | null | undefined): Decoder {
  const e = trimEndWhere(withoutComment((encoding ?? '').toLowerCase()), c => c === ';' || /\s/.test(c)).trim()
  if (e === 'base64') return new Base64Decoder()
  if (e === 'quoted-printable') return new QuotedPrintableDecoder()
  return new IdentityDecoder()
}

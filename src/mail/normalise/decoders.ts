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

class Base64Decoder implements Decoder {
  private bits = 0
  private nbits = 0

  write (chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(Math.ceil(chunk.length * 3 / 4) + 3)
    let o = 0
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number
      if (c === 0x3d) { // '=': padding ends the quantum; drop leftover bits
        this.bits = 0
        this.nbits = 0
        continue
      }
      const v = B64[c] as number
      if (v < 0) continue
      this.bits = ((this.bits << 6) | v) & 0xffffff
      this.nbits += 6
      if (this.nbits >= 8) {
        this.nbits -= 8
        out[o++] = (this.bits >> this.nbits) & 0xff
      }
    }
    return out.subarray(0, o)
  }

  end (): Buffer {
    return EMPTY
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

/**
 * APPEND rows: a 1 MB message posted one after another, and 10 concurrent
 * 20 MB uploads (the gateway's peak RSS during them is the row's; the bodies
 * are generated as they are sent, never held by the bench either).
 */
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Session } from './gateway.ts'
import { runOps, type Measured } from './load.ts'

const MB = 1024 * 1024

/** An RFC 5322 message of exactly `size` octets: `header` (ending in a blank line), then lines of z, made as it is read. */
export function sizedMessage (header: string, size: number): Readable {
  const head = Buffer.from(header)
  const line = Buffer.from('z'.repeat(78) + '\r\n')
  let left = size - head.length
  let first = true
  return new Readable({
    read () {
      if (first) { first = false; this.push(head); return }
      if (left <= 0) { this.push(null); return }
      const n = Math.min(left, 64 * 1024)
      const chunk = Buffer.alloc(n)
      for (let i = 0; i < n; i += line.length) line.copy(chunk, i, 0, Math.min(line.length, n - i))
      left -= n
      this.push(chunk)
    },
  })
}

async function post (base: string, s: Session, mailboxId: string, size: number, subject: string): Promise<void> {
  const url = new URL(`/v1/mailboxes/${mailboxId}/messages`, base)
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { ...s.auth, 'content-type': 'message/rfc822', 'content-length': String(size) },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    req.on('error', reject)
    pipeline(sizedMessage(`From: Bench <bench@example.com>\r\nTo: you@example.com\r\nSubject: ${subject}\r\n\r\n`, size), req).catch(reject)
  })
  if (status !== 201) throw new Error(`APPEND answered ${status}`)
}

/** `amount` APPENDs of a 1 MB message, `workers` at a time. */
export async function appendSmall (base: string, s: Session, mailboxId: string, workers: number, amount: number): Promise<Measured> {
  return await runOps({ workers, amount, op: async (i) => { await post(base, s, mailboxId, MB, `Bench APPEND 1 MB #${i}`) } })
}

/** `count` concurrent APPENDs of 20 MB each. */
export async function appendLarge (base: string, s: Session, mailboxId: string, count: number): Promise<Measured> {
  return await runOps({ workers: count, amount: count, op: async (i) => { await post(base, s, mailboxId, 20 * MB, `Bench APPEND 20 MB #${i}`) } })
}

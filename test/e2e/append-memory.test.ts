/**
 * APPEND never holds a message whole: 10 concurrent 20 MB uploads over real
 * HTTP (loopback) into the real Dovecot raise this process's RSS by far less
 * than the 200 MB they carry. The bodies are generated as they are sent, so
 * nothing in the test holds them either. A generous bound: the property is
 * "not buffered", not a number.
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { after, before, describe, it } from 'node:test'
import { imapSession } from '../env/sessions.ts'
import { startGateway, type Gateway } from './gateway.ts'

const MB = 1024 * 1024
const SIZE = 20 * MB
const UPLOADS = 10
/** Whole-message buffering would add at least UPLOADS × SIZE = 200 MB. */
const BOUND = 100 * MB

function generated (subject: string): Readable {
  const head = Buffer.from(`From: a@example.com\r\nSubject: ${subject}\r\n\r\n`)
  const line = Buffer.from('y'.repeat(78) + '\r\n')
  let left = SIZE - head.length
  let first = true
  return new Readable({
    read () {
      if (first) { first = false; this.push(head); return }
      if (left === 0) { this.push(null); return }
      const n = Math.min(left, 64 * 1024)
      const chunk = Buffer.alloc(n)
      for (let i = 0; i < n; i += line.length) line.copy(chunk, i, 0, Math.min(line.length, n - i))
      left -= n
      this.push(chunk)
    },
  })
}

describe('APPEND memory', { timeout: 300_000 }, () => {
  let gw: Gateway
  let port: number
  before(async () => {
    gw = await startGateway({ env: { IMAP_MAX_CONNECTIONS_PER_ACCOUNT: '10', UPSTREAM_TIMEOUT_MS: '30000' } })
    await gw.app.listen({ host: '127.0.0.1', port: 0 })
    port = (gw.app.server.address() as AddressInfo).port
  })
  after(async () => { await gw?.close() })

  it(`${UPLOADS} concurrent ${SIZE / MB} MB APPENDs stay within ${BOUND / MB} MB of extra RSS, all stored whole`, async () => {
    const user = await gw.env.dovecot.createUser('appendrss')
    const { token } = await gw.login(user)
    const inbox = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }).items.find(m => m.path === 'INBOX')!.id
    global.gc?.()
    const base = process.memoryUsage().rss
    let peak = base
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 10)
    try {
      const statuses = await Promise.all(Array.from({ length: UPLOADS }, async (_, i) => await new Promise<number>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/v1/mailboxes/${inbox}/messages`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', 'content-length': String(SIZE) },
        }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
        req.on('error', reject)
        pipeline(generated(`big ${i}`), req).catch(reject)
      })))
      assert.deepEqual(statuses, Array(UPLOADS).fill(201))
    } finally {
      clearInterval(sampler)
    }
    const grew = peak - base
    assert.ok(grew < BOUND, `RSS grew by ${Math.round(grew / MB)} MB`)
    const raw = await imapSession(gw.env.dovecot.ports.imap, user)
    try {
      await raw.run('EXAMINE INBOX')
      const sizes = (await raw.run('FETCH 1:* (RFC822.SIZE)')).filter(l => l.includes('RFC822.SIZE')).map(l => Number(/RFC822\.SIZE (\d+)/.exec(l)![1]))
      assert.deepEqual(sizes, Array(UPLOADS).fill(SIZE))
    } finally { raw.close() }
    console.log(`# RSS: base ${Math.round(base / MB)} MB, peak ${Math.round(peak / MB)} MB during ${UPLOADS} × ${SIZE / MB} MB APPENDs`)
  })
})

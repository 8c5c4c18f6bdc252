/**
 * Framing over real TCP with a scripted server: replies split at every byte
 * offset, dot-stuffed lines, 8-bit bytes, the final CRLF, backpressure and
 * pipelining only when offered.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { connectPop3 } from '../../src/backends/pop3/client/index.ts'
import { delay, startFakeServer, stuff, type FakeMessage } from './fake-server.ts'
import { clientOptions, readAll } from './helpers.ts'

// A line that is just ".", one that is "..", and a leading dot: all need stuffing.
const dotty = Buffer.from('Subject: dots\r\n\r\n.leading dot\r\n..\r\n.\r\n. \r\nend\r\n', 'latin1')

test('RETR split at every byte offset (status line and terminator included) is byte-exact', async (t) => {
  const msg: FakeMessage = { uid: 'u1', raw: dotty }
  const wire = Buffer.concat([Buffer.from('+OK 1 message\r\n'), stuff(dotty)])
  let offset = 0
  const server = await startFakeServer({
    messages: [msg],
    onCommand: async (cmd, _args, s) => {
      if (cmd !== 'RETR') return false
      await s.writeSplit(wire, [offset++], 2)
      return true
    },
  })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  for (let at = 0; at <= wire.length; at++) {
    const body = await readAll(await client.retr(1))
    assert.deepEqual(body, dotty, `split at ${at}`)
  }
  await client.quit()
})

test('the status line split across reads, and a reply in 1-byte reads', async (t) => {
  const server = await startFakeServer({
    onCommand: async (cmd, _args, s) => {
      if (cmd !== 'STAT') return false
      const line = Buffer.from('+OK 3 1234\r\n')
      await s.writeSplit(line, [...line.keys()].slice(1), 1)
      return true
    },
  })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  assert.deepEqual(await client.stat(), { count: 3, size: 1234 })
  await client.quit()
})

test('8-bit ISO-8859-1 message of 150 bytes stays 150 exact bytes; dot lines unstuffed; final CRLF kept', async (t) => {
  const head = Buffer.from('Subject: =?iso-8859-1?q?caf=E9?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n', 'latin1')
  const latin = Buffer.concat([head, Buffer.from('.leading dot caf\xe9\r\n', 'latin1')])
  const raw = Buffer.concat([latin, Buffer.alloc(150 - latin.length - 2, 0xe0), Buffer.from('\r\n')])
  assert.equal(raw.length, 150)
  const server = await startFakeServer({ messages: [{ uid: 'a', raw }, { uid: 'b', raw: dotty }] })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  const got = await readAll(await client.retr(1))
  assert.equal(got.length, 150)
  assert.deepEqual(got, raw)
  assert.ok(got.subarray(head.length).toString('latin1').startsWith('.leading dot'), 'one dot, not two')
  assert.deepEqual(await readAll(await client.retr(2)), dotty)
  assert.deepEqual(await client.uidl(), [{ n: 1, uid: 'a' }, { n: 2, uid: 'b' }])
  assert.deepEqual([...(await client.list())], [[1, 150], [2, dotty.length]])
  await client.quit()
})

test('a slow consumer pauses the socket; the stream is still exact', async (t) => {
  const line = Buffer.from('0123456789abcdef'.repeat(4) + '\r\n')
  const raw = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), ...Array.from({ length: 40000 }, () => line)])
  const server = await startFakeServer({ messages: [{ uid: 'big', raw }] })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  const stream = await client.retr(1)
  const chunks: Buffer[] = []
  await delay(100) // let the server fill buffers while nobody reads
  await pipeline(stream, new Writable({
    highWaterMark: 1024,
    write (chunk: Buffer, _enc, cb) { chunks.push(chunk); setImmediate(cb) },
  }))
  assert.deepEqual(Buffer.concat(chunks), raw)
  assert.deepEqual(await client.stat(), { count: 1, size: raw.length }, 'connection usable after')
  await client.quit()
})

async function topArrivals (capa: string[]): Promise<number> {
  const messages = Array.from({ length: 5 }, (_, i) => ({ uid: `m${i}`, raw: Buffer.from(`Subject: ${i}\r\n\r\nbody\r\n`) }))
  let seenAtFirst = -1
  const server = await startFakeServer({
    messages,
    capa,
    onCommand: async (cmd) => {
      if (cmd === 'TOP' && seenAtFirst === -1) {
        await delay(50)
        seenAtFirst = server.received.filter(c => c === 'TOP').length
      }
      return false
    },
  })
  try {
    const client = await connectPop3(clientOptions(server.port))
    const tops = await Promise.all([1, 2, 3, 4, 5].map(n => client.top(n, 0)))
    tops.forEach((b, i) => assert.equal(b.toString(), `Subject: ${i}\r\n\r\n`))
    await client.quit()
    return seenAtFirst
  } finally {
    await server.close()
  }
}

test('commands are pipelined only when CAPA offers PIPELINING', async () => {
  assert.equal(await topArrivals(['TOP', 'UIDL', 'USER', 'PIPELINING']), 5)
  assert.equal(await topArrivals(['TOP', 'UIDL', 'USER']), 1)
})

import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { MailEvent } from '../../src/mail/events.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import { sampleEvent } from './samples.ts'
import { openSse } from './sse-client.ts'

/** A full GC on demand (the runner does not pass --expose-gc). */
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Live memory, JavaScript and native buffers, after a full collection: what is kept, not garbage. */
function liveBytes (): number {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

async function listen (gw: Gateway): Promise<string> {
  await gw.app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`
}

function publish (gw: Gateway, event: MailEvent): Promise<void> {
  const rt = gw.service.realtime
  assert.ok(rt !== null)
  return rt.events.publish(event)
}

describe('event streams across two instances sharing Redis', () => {
  let a: Gateway
  let b: Gateway
  let baseA: string
  let baseB: string
  let user: { username: string, password: string }

  before(async () => {
    const env = { EVENTS_STREAM_BUFFER_BYTES: '65536' }
    a = await startGateway({ redis: true, env })
    b = await startGateway({ redis: true, env })
    baseA = await listen(a)
    baseB = await listen(b)
    user = await a.env.dovecot.createUser('sse-redis')
  })
  after(async () => { await Promise.all([a.close(), b.close()]) })

  it('a ticket issued on A is redeemed once, on B; a second use anywhere is 401', async () => {
    const { token } = await a.login(user)
    const res = await a.app.inject({ method: 'POST', url: '/v1/events/tickets', headers: { authorization: `Bearer ${token}` } })
    const { ticket } = res.json() as { ticket: string }
    const onB = await openSse(baseB, `/v1/events?ticket=${ticket}`)
    assert.equal(onB.status, 200)
    assert.equal((await openSse(baseA, `/v1/events?ticket=${ticket}`)).status, 401)
    assert.equal((await openSse(baseB, `/v1/events?ticket=${ticket}`)).status, 401)
    onB.close()
  })

  it('an event published on A reaches a stream on B once, however many instances publish it', async () => {
    const { token, account } = await a.login(user)
    const stream = await openSse(baseB, '/v1/events', { authorization: `Bearer ${token}` })
    // the stream is live once a probe published on A arrives
    for (let n = 0; stream.frames.length === 0; n++) {
      await publish(a, sampleEvent(account.id, 5000 + n, 'probe'))
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const before = stream.frames.length
    const event = sampleEvent(account.id, 1)
    await Promise.all([publish(a, event), publish(b, event), publish(a, event)])
    await publish(b, sampleEvent(account.id, 2))
    const got = (await stream.frames_(before + 2)).slice(before)
    assert.deepEqual(got.map((f) => f.id), [event.id, sampleEvent(account.id, 2).id])
    stream.close()
  })

  it('a client that reads nothing is closed, and the gateway\'s memory stays flat', async () => {
    const { token, account } = await a.login(user)
    const port = (a.app.server.address() as AddressInfo).port
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    socket.write(`GET /v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`)
    // the headers arrive once the stream is open; from then on nothing is read
    await new Promise<void>((resolve) => { socket.once('readable', () => { resolve() }) })
    socket.pause()
    const big = { m1: Array.from({ length: 400 }, (_, i) => `$keyword-${i}-${'x'.repeat(40)}`) }
    const before = liveBytes()
    // ~20 KB each, 30 MB in all: far beyond the socket buffers and the 64 KiB stream buffer
    for (let n = 0; n < 1500; n++) {
      await publish(a, { ...sampleEvent(account.id, 10_000 + n), type: 'message.updated', keywords: big })
      if (n % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
    }
    // the unread stream is still open here: whatever it kept for its client is live
    const growth = liveBytes() - before
    assert.ok(growth < 12 * 1024 * 1024, `live memory grew by ${Math.round(growth / 1024 / 1024)} MiB while 30 MB of events were published`)
    // now read what the server wrote: it ends with the reason, then the response ends
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { text = (text + chunk).slice(-4096) })
    await new Promise<void>((resolve) => { socket.on('end', () => { resolve() }); socket.resume() })
    socket.destroy()
    assert.ok(text.includes(': closed slow-consumer\n\n'), text.slice(-200))
  })
})

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough, Readable } from 'node:stream'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { contentDisposition, safeContentType } from '../../src/http/download.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { ATTACHMENT, GOOD_TOKEN, MESSAGE_ETAG, MESSAGE_ID, RAW, stallingStream } from './fake-service.ts'
import { auth, setup } from './helpers.ts'

test('raw: message/rfc822, byte for byte, Content-Length, strong ETag, immutable', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ url: `/v1/messages/${MESSAGE_ID}/raw`, headers: auth })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'message/rfc822')
  assert.equal(res.headers['content-length'], String(RAW.length))
  assert.equal(res.headers.etag, '"raw-etag"')
  assert.equal(res.headers['cache-control'], 'private, immutable, max-age=31536000')
  assert.deepEqual(res.rawPayload, RAW)
})

test('raw: no Content-Length when the size is unknown', async (t) => {
  const { app, service } = await setup(t)
  service.rawSize = null
  const res = await app.inject({ url: `/v1/messages/${MESSAGE_ID}/raw`, headers: auth })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-length'], undefined)
  assert.deepEqual(res.rawPayload, RAW)
})

test('attachment: its type, a UTF-8 safe Content-Disposition and its bytes', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ url: `/v1/messages/${MESSAGE_ID}/attachments/2`, headers: auth })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'application/pdf')
  assert.equal(res.headers['content-length'], String(ATTACHMENT.length))
  assert.equal(res.headers['content-disposition'],
    'attachment; filename="Bericht Marz 2024.pdf"; filename*=UTF-8\'\'Bericht%20M%C3%A4rz%202024.pdf')
  assert.equal(res.headers['x-content-type-options'], 'nosniff')
  assert.deepEqual(res.rawPayload, ATTACHMENT)
  assert.deepEqual(service.callsTo('openAttachment')[0]?.slice(1), [MESSAGE_ID, '2'])
})

test('contentDisposition: ASCII names stay plain; hostile characters never survive', () => {
  assert.equal(contentDisposition(null), 'attachment')
  assert.equal(contentDisposition('report.pdf'), 'attachment; filename="report.pdf"')
  assert.equal(contentDisposition('a"b\r\nSet-Cookie: x.txt'),
    'attachment; filename="a_b__Set-Cookie: x.txt"; filename*=UTF-8\'\'a%22b__Set-Cookie%3A%20x.txt')
  // a quote is part of the name: kept, percent-encoded (RFC 8187), not turned into another character
  assert.equal(contentDisposition('the "final" one.pdf'),
    'attachment; filename="the _final_ one.pdf"; filename*=UTF-8\'\'the%20%22final%22%20one.pdf')
  const evil = contentDisposition('../../etc/passwd\\x')
  assert.doesNotMatch(evil, /[/\\]/)
  const cjk = contentDisposition('報告.pdf')
  assert.match(cjk, /^attachment; filename="__\.pdf"; filename\*=UTF-8''%E5%A0%B1%E5%91%8A\.pdf$/)
  assert.match(contentDisposition("it's (v2)*.txt"), /filename\*=UTF-8''it%27s%20%28v2%29%2A\.txt$/)
  for (const name of ['x\r\ny', 'q"q', 'tab\there', 'ü\u0000']) assert.doesNotMatch(contentDisposition(name), /[\r\n\0\t]|"[^"]*"[^;]*"/)
})

test('safeContentType keeps media types and replaces anything malformed', () => {
  assert.equal(safeContentType('text/plain; charset="utf-8"'), 'text/plain; charset="utf-8"')
  assert.equal(safeContentType('image/png'), 'image/png')
  assert.equal(safeContentType('text/html\r\nX-Evil: 1'), 'application/octet-stream')
  assert.equal(safeContentType('nonsense'), 'application/octet-stream')
})

test('If-None-Match on the message: weak comparison, lists and * → 304', async (t) => {
  const { app } = await setup(t)
  const url = `/v1/messages/${MESSAGE_ID}`
  for (const inm of [MESSAGE_ETAG, MESSAGE_ETAG.slice(2), `"other", ${MESSAGE_ETAG}`, '*']) {
    const res = await app.inject({ url, headers: { ...auth, 'if-none-match': inm } })
    assert.equal(res.statusCode, 304, inm)
    assert.equal(res.body, '')
    assert.equal(res.headers.etag, MESSAGE_ETAG)
  }
  const miss = await app.inject({ url, headers: { ...auth, 'if-none-match': 'W/"stale"' } })
  assert.equal(miss.statusCode, 200)
})

test('If-None-Match on a download → 304 and the upstream stream is released', async (t) => {
  const { app, service } = await setup(t)
  const res = await app.inject({ url: `/v1/messages/${MESSAGE_ID}/raw`, headers: { ...auth, 'if-none-match': '"raw-etag"' } })
  assert.equal(res.statusCode, 304)
  assert.equal(res.body, '')
  assert.equal(service.lastStream?.destroyed, true)
})

test('a download that fails before any byte → its problem+json, no download headers', async (t) => {
  const { app, service } = await setup(t)
  service.nextStream = () => new Readable({ read () { this.destroy(new GatewayError('upstream-unavailable', 'connection dropped')) } })
  const res = await app.inject({ url: `/v1/messages/${MESSAGE_ID}/raw`, headers: auth })
  assert.equal(res.statusCode, 502)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  assert.equal(res.headers.etag, undefined)
  assert.equal(res.headers['cache-control'], undefined)
  assert.equal(res.json().code, 'upstream-unavailable')
})

test('a GatewayError from openAttachment maps as usual', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ url: `/v1/messages/${MESSAGE_ID}/attachments/9`, headers: auth })
  assert.equal(res.statusCode, 404)
  assert.equal(res.json().code, 'not-found')
})

async function listen (t: import('node:test').TestContext, env: NodeJS.ProcessEnv = {}) {
  const h = await setup(t, env)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = h.app.server.address() as AddressInfo
  return { ...h, port }
}

function get (port: number, path: string) {
  const req = httpRequest({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${GOOD_TOKEN}` } })
  req.end()
  return req
}

test('a client that aborts mid-download destroys the upstream stream', async (t) => {
  const { service, port } = await listen(t)
  const upstream = stallingStream(Buffer.from('From: a@b\r\n'))
  service.nextStream = () => upstream
  const req = get(port, `/v1/messages/${MESSAGE_ID}/raw`)
  req.on('error', () => {})
  const [res] = await once(req, 'response')
  assert.equal(res.statusCode, 200)
  await once(res, 'data')
  req.destroy()
  const deadline = Date.now() + 2000
  while (!upstream.destroyed && Date.now() < deadline) await sleep(10)
  assert.equal(upstream.destroyed, true, 'upstream stream destroyed after the client left')
})

test('an upstream error mid-stream aborts the response instead of hanging', async (t) => {
  const { service, port } = await listen(t)
  const upstream = new PassThrough()
  upstream.write(Buffer.from('From: a@b\r\n'))
  service.nextStream = () => upstream
  const req = get(port, `/v1/messages/${MESSAGE_ID}/raw`)
  const [res] = await once(req, 'response')
  await once(res, 'data')
  const ended = new Promise<string>((resolve) => {
    res.on('end', () => resolve('end'))
    res.on('aborted', () => resolve('aborted'))
    res.on('error', () => resolve('error'))
    res.on('close', () => resolve('close'))
  })
  upstream.destroy(new GatewayError('upstream-unavailable', 'connection dropped'))
  const outcome = await Promise.race([ended, sleep(2000).then(() => 'hung')])
  assert.notEqual(outcome, 'hung')
  assert.equal(res.complete, false, 'the client must see an incomplete response, not a clean end')
})

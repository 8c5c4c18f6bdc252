/**
 * The live API against openapi.yaml: every operation the document lists is
 * called on the real gateway (real Dovecot behind it), for IMAP and POP3, and
 * every response — successes and errors — validates against the document.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { loadOpenApi } from '../../src/http/openapi.ts'
import { encodeMailboxId } from '../../src/mail/ids.ts'
import { assertResponse } from '../contract/openapi-validator.ts'
import { readCorpus } from './direct.ts'
import { recordSecret, startGateway, type Gateway } from './gateway.ts'

const withAttachment = readCorpus().find(c => c.file.endsWith('mikel-mail/attachment_pdf.eml'))!

describe('live responses validate against openapi.yaml', { timeout: 120_000 }, () => {
  let gw: Gateway
  const called = new Set<string>()
  const check = (res: Parameters<typeof assertResponse>[0], method: string, path: string): void => {
    assertResponse(res, method, path)
    called.add(`${method} ${path}`)
  }

  before(async () => { gw = await startGateway() })
  after(async () => { await gw?.close() })

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: every read operation and its errors`, async () => {
      const user = await gw.env.dovecot.createUser(`live-${protocol}`)
      await gw.env.dovecot.deliver(user.username, withAttachment.raw)
      recordSecret(user.password)
      const created = await gw.app.inject({
        method: 'POST',
        url: '/v1/sessions',
        payload: { protocol, host: '127.0.0.1', port: gw.env.dovecot.ports[protocol === 'imap' ? 'imaps' : 'pop3s'], username: user.username, password: user.password },
      })
      assert.equal(created.statusCode, 201, created.body)
      check(created, 'POST', '/v1/sessions')
      const token = created.json().token as string
      recordSecret(token)

      const account = await gw.get('/v1/account', token)
      check(account, 'GET', '/v1/account')
      assert.equal(account.json().protocol, protocol)
      const boxes = await gw.get('/v1/mailboxes', token)
      check(boxes, 'GET', '/v1/mailboxes')
      const inbox = boxes.json().items.find((m: { role: string }) => m.role === 'inbox')
      check(await gw.get(`/v1/mailboxes/${inbox.id}`, token), 'GET', '/v1/mailboxes/{mailboxId}')
      assert.equal(typeof inbox.state, 'string')
      const changes = await gw.get(`/v1/mailboxes/${inbox.id}/changes?since=${inbox.state as string}&limit=10`, token)
      assert.equal(changes.statusCode, 200, changes.body)
      check(changes, 'GET', '/v1/mailboxes/{mailboxId}/changes')
      check(await gw.get(`/v1/mailboxes/${inbox.id}/changes?since=forged`, token), 'GET', '/v1/mailboxes/{mailboxId}/changes')
      const list = await gw.get(`/v1/mailboxes/${inbox.id}/messages?limit=5`, token)
      check(list, 'GET', '/v1/mailboxes/{mailboxId}/messages')
      const id = list.json().items[0].id as string
      const message = await gw.get(`/v1/messages/${id}`, token)
      check(message, 'GET', '/v1/messages/{messageId}')
      const notModified = await gw.get(`/v1/messages/${id}`, token, { 'if-none-match': String(message.headers.etag) })
      assert.equal(notModified.statusCode, 304)
      check(await gw.get(`/v1/messages/${id}/raw`, token), 'GET', '/v1/messages/{messageId}/raw')
      const att = message.json().attachments[0]
      assert.ok(att, 'the PDF is an attachment')
      check(await gw.get(att.url, token), 'GET', '/v1/messages/{messageId}/attachments/{attachmentId}')

      // errors are problem+json and documented too
      const filtered = await gw.get(`/v1/mailboxes/${inbox.id}/messages?unread=true`, token)
      assert.equal(filtered.statusCode, protocol === 'pop3' ? 422 : 200)
      check(filtered, 'GET', '/v1/mailboxes/{mailboxId}/messages')
      // a folder: IMAP has none by that name (404); POP3 has no folders at all (422)
      const folder = encodeMailboxId(account.json().id, 'No such folder')
      const folderStatus = protocol === 'pop3' ? 422 : 404
      const folderGet = await gw.get(`/v1/mailboxes/${folder}`, token)
      assert.equal(folderGet.statusCode, folderStatus, folderGet.body)
      check(folderGet, 'GET', '/v1/mailboxes/{mailboxId}')
      const folderList = await gw.get(`/v1/mailboxes/${folder}/messages`, token)
      assert.equal(folderList.statusCode, folderStatus, folderList.body)
      check(folderList, 'GET', '/v1/mailboxes/{mailboxId}/messages')
      const missing = await gw.get(`/v1/messages/${id}/attachments/99`, token)
      assert.equal(missing.statusCode, 404)
      check(missing, 'GET', '/v1/messages/{messageId}/attachments/{attachmentId}')
      const badId = await gw.get('/v1/messages/not!an!id', token)
      assert.equal(badId.statusCode, 400)
      const unauthorized = await gw.get('/v1/account', 'mgw1.forged')
      assert.equal(unauthorized.statusCode, 401)
      check(unauthorized, 'GET', '/v1/account')

      const revoked = await gw.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { authorization: `Bearer ${token}` } })
      assert.equal(revoked.statusCode, 204)
      check(revoked, 'DELETE', '/v1/sessions/current')
      assert.equal((await gw.get('/v1/account', token)).statusCode, 401, 'revoked token refused')
    })
  }

  it('message writes and their errors (IMAP and POP3)', async () => {
    const inject = (token: string, method: 'PATCH' | 'POST' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) => gw.app.inject({
      method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    })
    const user = await gw.env.dovecot.createUser('live-writes')
    for (const subject of ['a', 'b', 'c']) await gw.env.dovecot.deliver(user.username, Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`))
    const { token } = await gw.login(user)
    const boxes = (await gw.get('/v1/mailboxes', token)).json().items as Array<{ id: string, role: string | null }>
    const inbox = boxes.find(m => m.role === 'inbox')!.id
    const archive = boxes.find(m => m.role === 'archive')!.id
    const [a, b, c] = ((await gw.get(`/v1/mailboxes/${inbox}/messages`, token)).json().items as Array<{ id: string }>).map(m => m.id)
    const patched = await inject(token, 'PATCH', `/v1/messages/${a}`, { keywords: { $seen: true } })
    assert.equal(patched.statusCode, 200, patched.body)
    check(patched, 'PATCH', '/v1/messages/{messageId}')
    const bad = await inject(token, 'PATCH', `/v1/messages/${a}`, { keywords: { 'a b': true } })
    assert.equal(bad.statusCode, 400)
    check(bad, 'PATCH', '/v1/messages/{messageId}')
    const stale = await inject(token, 'PATCH', `/v1/messages/${a}`, { keywords: { $flagged: true } }, { 'if-match': '"1"' })
    assert.equal(stale.statusCode, 412, stale.body)
    check(stale, 'PATCH', '/v1/messages/{messageId}')
    const copied = await inject(token, 'POST', `/v1/messages/${a}/copy`, { mailboxId: archive })
    assert.equal(copied.statusCode, 201)
    check(copied, 'POST', '/v1/messages/{messageId}/copy')
    const moved = await inject(token, 'POST', `/v1/messages/${b}/move`, { mailboxId: archive })
    assert.equal(moved.statusCode, 200)
    check(moved, 'POST', '/v1/messages/{messageId}/move')
    const gone = await inject(token, 'POST', `/v1/messages/${b}/move`, { mailboxId: archive })
    assert.equal(gone.statusCode, 404)
    check(gone, 'POST', '/v1/messages/{messageId}/move')
    const batch = await inject(token, 'POST', '/v1/messages/batch', { ids: [a, b], action: 'update', keywords: { $flagged: true } })
    assert.equal(batch.statusCode, 200)
    check(batch, 'POST', '/v1/messages/batch')
    const trashed = await inject(token, 'DELETE', `/v1/messages/${c}`)
    assert.equal(trashed.statusCode, 200)
    check(trashed, 'DELETE', '/v1/messages/{messageId}')
    const purged = await inject(token, 'DELETE', `/v1/messages/${trashed.json().id}`)
    assert.equal(purged.statusCode, 204)
    check(purged, 'DELETE', '/v1/messages/{messageId}')

    const pop = await gw.login(user, { protocol: 'pop3', security: 'none' })
    const popInbox = (await gw.get('/v1/mailboxes', pop.token)).json().items[0].id as string
    const popId = (await gw.get(`/v1/mailboxes/${popInbox}/messages`, pop.token)).json().items[0].id as string
    const unsupported = await inject(pop.token, 'PATCH', `/v1/messages/${popId}`, { keywords: { $seen: true } })
    assert.equal(unsupported.statusCode, 422)
    check(unsupported, 'PATCH', '/v1/messages/{messageId}')
    const deleted = await inject(pop.token, 'DELETE', `/v1/messages/${popId}`)
    assert.equal(deleted.statusCode, 204, deleted.body)
    check(deleted, 'DELETE', '/v1/messages/{messageId}')
  })

  it('APPEND, mailbox writes and their errors (IMAP and POP3)', async () => {
    const send = (token: string, method: 'PATCH' | 'POST' | 'DELETE', url: string, body?: Buffer | Record<string, unknown>, headers: Record<string, string> = {}) => gw.app.inject({
      method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(body === undefined ? {} : { payload: body }),
    })
    const raw = Buffer.from('From: a@example.com\r\nSubject: appended\r\n\r\nbody\r\n')
    const rfc822 = { 'content-type': 'message/rfc822', 'content-length': String(raw.length) }
    const user = await gw.env.dovecot.createUser('live-mailboxes')
    const { token } = await gw.login(user)
    const inbox = ((await gw.get('/v1/mailboxes', token)).json().items as Array<{ id: string, role: string | null }>).find(m => m.role === 'inbox')!.id

    const created = await send(token, 'POST', '/v1/mailboxes', { name: 'Live' }, { 'idempotency-key': 'live-1' })
    assert.equal(created.statusCode, 201, created.body)
    check(created, 'POST', '/v1/mailboxes')
    const reused = await send(token, 'POST', '/v1/mailboxes', { name: 'Other' }, { 'idempotency-key': 'live-1' })
    assert.equal(reused.statusCode, 422, reused.body)
    check(reused, 'POST', '/v1/mailboxes')
    const taken = await send(token, 'POST', '/v1/mailboxes', { name: 'Live' })
    assert.equal(taken.statusCode, 409)
    check(taken, 'POST', '/v1/mailboxes')
    const slash = await send(token, 'POST', '/v1/mailboxes', { name: 'a/b' })
    assert.equal(slash.statusCode, 400)
    check(slash, 'POST', '/v1/mailboxes')

    const renamed = await send(token, 'PATCH', `/v1/mailboxes/${created.json().id as string}`, { name: 'Live2' })
    assert.equal(renamed.statusCode, 200, renamed.body)
    check(renamed, 'PATCH', '/v1/mailboxes/{mailboxId}')
    const inboxRename = await send(token, 'PATCH', `/v1/mailboxes/${inbox}`, { name: 'Elsewhere' })
    assert.equal(inboxRename.statusCode, 422)
    check(inboxRename, 'PATCH', '/v1/mailboxes/{mailboxId}')
    const box = renamed.json().id as string

    const appended = await send(token, 'POST', `/v1/mailboxes/${box}/messages?keywords=$seen`, raw, rfc822)
    assert.equal(appended.statusCode, 201, appended.body)
    check(appended, 'POST', '/v1/mailboxes/{mailboxId}/messages')
    const notMessage = await send(token, 'POST', `/v1/mailboxes/${box}/messages`, Buffer.from('no header\r\n'), { 'content-type': 'message/rfc822' })
    assert.equal(notMessage.statusCode, 400)
    check(notMessage, 'POST', '/v1/mailboxes/{mailboxId}/messages')

    const notEmpty = await send(token, 'DELETE', `/v1/mailboxes/${box}`)
    assert.equal(notEmpty.statusCode, 409)
    check(notEmpty, 'DELETE', '/v1/mailboxes/{mailboxId}')
    const deleted = await send(token, 'DELETE', `/v1/mailboxes/${box}?force=true`)
    assert.equal(deleted.statusCode, 204)
    check(deleted, 'DELETE', '/v1/mailboxes/{mailboxId}')
    const inboxDelete = await send(token, 'DELETE', `/v1/mailboxes/${inbox}`)
    assert.equal(inboxDelete.statusCode, 422)
    check(inboxDelete, 'DELETE', '/v1/mailboxes/{mailboxId}')

    const pop = await gw.login(user, { protocol: 'pop3', security: 'none' })
    const popInbox = (await gw.get('/v1/mailboxes', pop.token)).json().items[0].id as string
    const popAppend = await send(pop.token, 'POST', `/v1/mailboxes/${popInbox}/messages`, raw, rfc822)
    assert.equal(popAppend.statusCode, 422)
    check(popAppend, 'POST', '/v1/mailboxes/{mailboxId}/messages')
  })

  it('events, sending and webhooks: what a gateway without Redis or SMTP answers', async () => {
    const user = await gw.env.dovecot.createUser('live-events')
    const { token } = await gw.login(user)
    const auth = { authorization: `Bearer ${token}` }
    const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: Record<string, unknown>) =>
      gw.app.inject({ method, url, headers: { ...auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload }) })

    const ticket = await call('POST', '/v1/events/tickets')
    assert.equal(ticket.statusCode, 201, ticket.body)
    check(ticket, 'POST', '/v1/events/tickets')
    // a stream that opens never ends by itself: the refusals are what inject can see whole
    const badType = await call('GET', '/v1/events?types=no.such.type')
    assert.equal(badType.statusCode, 400)
    check(badType, 'GET', '/v1/events')
    const usedTicket = await gw.app.inject({ method: 'GET', url: '/v1/events?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
    assert.equal(usedTicket.statusCode, 401)
    check(usedTicket, 'GET', '/v1/events')

    // this session has no smtp settings: sending is not something it can do
    const sent = await call('POST', '/v1/messages/send', { to: [{ email: 'bob@example.test' }], subject: 's', text: 't' })
    assert.equal(sent.statusCode, 422, sent.body)
    check(sent, 'POST', '/v1/messages/send')

    // webhooks need Redis; this gateway runs without it
    const hook = 'whk_unknown'
    for (const [method, path, url, payload] of [
      ['POST', '/v1/webhooks', '/v1/webhooks', { url: 'https://hooks.example.com/in' }],
      ['GET', '/v1/webhooks', '/v1/webhooks', undefined],
      ['GET', '/v1/webhooks/{webhookId}', `/v1/webhooks/${hook}`, undefined],
      ['DELETE', '/v1/webhooks/{webhookId}', `/v1/webhooks/${hook}`, undefined],
      ['POST', '/v1/webhooks/{webhookId}/renew', `/v1/webhooks/${hook}/renew`, undefined],
      ['POST', '/v1/webhooks/{webhookId}/test', `/v1/webhooks/${hook}/test`, undefined],
    ] as const) {
      const res = await call(method, url, payload)
      assert.ok([400, 422].includes(res.statusCode), `${method} ${url}: ${res.statusCode} ${res.body}`)
      check(res, method, path)
    }
  })

  it('ops endpoints', async () => {
    check(await gw.app.inject({ method: 'GET', url: '/healthz' }), 'GET', '/healthz')
    const ready = await gw.app.inject({ method: 'GET', url: '/readyz' })
    check(ready, 'GET', '/readyz')
    assert.equal(ready.json().cache.backend, 'memory')
    const docs = await gw.app.inject({ method: 'GET', url: '/docs' })
    assert.ok([200, 302].includes(docs.statusCode))
    called.add('GET /docs')
  })

  it('every operation in openapi.yaml was exercised live', () => {
    const doc = loadOpenApi() as unknown as { paths: Record<string, Record<string, unknown>> }
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).filter(m => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map(m => `${m.toUpperCase()} ${path}`))
    assert.deepEqual(listed.filter(op => !called.has(op)), [])
  })
})

/**
 * APPEND through the gateway against the real Dovecot; every effect read back
 * with the harness's raw IMAP session, never with the gateway's own code.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { imapSession, fetchRaw } from '../env/sessions.ts'
import { startGateway, type Gateway } from './gateway.ts'

const message = (subject: string, body = 'hello'): Buffer =>
  Buffer.from(`From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\n${body}\r\n`)

describe('APPEND (POST /v1/mailboxes/{id}/messages)', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: { username: string, password: string }
  let token: string
  let ids: Record<string, string>

  before(async () => {
    gw = await startGateway({ env: { APPEND_LIMIT: '64KB', CACHE_MAX_STALENESS_MS: '60000' } })
    user = await gw.env.dovecot.createUser('append')
    token = (await gw.login(user)).token
    // the list (with its counts) is now cached for a minute: an APPEND must show in it at once
    const list = (await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string, totalEmails: number }> }
    ids = Object.fromEntries(list.items.map(m => [m.path, m.id]))
    assert.equal(list.items.find(m => m.path === 'Archive')?.totalEmails, 0)
  })
  after(async () => { await gw?.close() })

  const append = (path: string, body: Buffer | Readable, query = '', headers: Record<string, string> = {}) => gw.app.inject({
    method: 'POST',
    url: `/v1/mailboxes/${ids[path]!}/messages${query}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', ...(Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : {}), ...headers },
    payload: body,
  })

  async function uidsIn (path: string): Promise<number[]> {
    const raw = await imapSession(gw.env.dovecot.ports.imap, user)
    try {
      await raw.run(`EXAMINE "${path}"`)
      const lines = await raw.run('UID SEARCH ALL')
      return (lines.find(l => l.startsWith('* SEARCH')) ?? '* SEARCH').split(' ').slice(2).map(Number)
    } finally { raw.close() }
  }

  it('streams the message in, with keywords and receivedAt; 201 with the APPENDUID id and Location', async () => {
    const raw = message('appended one', 'x'.repeat(20_000))
    const res = await append('Archive', Readable.from([raw.subarray(0, 7000), raw.subarray(7000)]), '?keywords=$seen,$flagged,custom&receivedAt=2024-03-01T10:20:30Z', { 'content-length': String(raw.length) })
    assert.equal(res.statusCode, 201, res.body)
    const body = res.json() as { id: string, mailboxId: string }
    assert.equal(body.mailboxId, ids.Archive)
    assert.equal(res.headers.location, `/v1/messages/${body.id}`)
    const wire = await imapSession(gw.env.dovecot.ports.imap, user)
    try {
      await wire.run('EXAMINE "Archive"')
      const uid = (await uidsIn('Archive')).at(-1)!
      const { meta, body: stored } = await fetchRaw(wire, uid)
      assert.deepEqual(stored, raw, 'byte for byte')
      assert.match(meta, /\\Seen/)
      assert.match(meta, /\\Flagged/)
      assert.match(meta, /custom/)
      assert.match(meta, /INTERNALDATE "01-Mar-2024 10:20:30 \+0000"/)
    } finally { wire.close() }
    // the new id reads back through the gateway, and the count shows at once
    assert.equal((await gw.get(`/v1/messages/${body.id}`, token)).statusCode, 200)
    const archive = (await gw.get(`/v1/mailboxes/${ids.Archive!}`, token)).json() as { totalEmails: number }
    assert.equal(archive.totalEmails, 1)
  })

  it('a body that is not a message → 400, nothing appended', async () => {
    const before = await uidsIn('Drafts')
    const res = await append('Drafts', Buffer.from('just some text\r\nwithout a header\r\n'))
    assert.equal(res.statusCode, 400, res.body)
    assert.equal(res.json().code, 'bad-request')
    assert.deepEqual(await uidsIn('Drafts'), before)
  })

  it('a body without a Content-Length → 400, one not sent as message/rfc822 → 415, nothing appended', async () => {
    const raw = message('framing')
    const chunked = await append('Sent', Readable.from([raw]))
    assert.equal(chunked.statusCode, 400, chunked.body)
    assert.match(chunked.json().detail, /Content-Length/)
    const typed = await append('Sent', raw, '', { 'content-type': 'text/plain' })
    assert.equal(typed.statusCode, 415, typed.body)
    assert.deepEqual(await uidsIn('Sent'), [])
  })

  it('over APPEND_LIMIT → 413 before anything is sent; an invalid keyword → 400', async () => {
    const big = message('big', 'y'.repeat(70 * 1024))
    const res = await append('Drafts', big)
    assert.equal(res.statusCode, 413, res.body)
    assert.equal(res.json().code, 'payload-too-large')
    const bad = await append('Drafts', message('kw'), '?keywords=%5Cdeleted')
    assert.equal(bad.statusCode, 400, bad.body)
    assert.deepEqual(await uidsIn('Drafts'), [])
  })

  it('the caller going away mid-body leaves the mailbox as it was (the partial APPEND is discarded)', async () => {
    const before = await uidsIn('Junk')
    const raw = message('cut short', 'z'.repeat(30_000))
    const body = new Readable({ read () {} })
    body.push(raw.subarray(0, 10_000))
    setTimeout(() => body.destroy(new Error('client went away')), 200)
    const res = await append('Junk', body, '', { 'content-length': String(raw.length) }).catch((err: Error) => err)
    if (!(res instanceof Error)) assert.ok(res.statusCode >= 400, `an error, got ${res.statusCode}`)
    assert.deepEqual(await uidsIn('Junk'), before)
    // the gateway still works for this account afterwards
    assert.equal((await append('Junk', message('after the cut'))).statusCode, 201)
  })

  it('POP3 accounts cannot append (422)', async () => {
    const { token: pop } = await gw.login(user, { protocol: 'pop3' })
    const inbox = ((await gw.get('/v1/mailboxes', pop)).json() as { items: Array<{ id: string }> }).items[0]!
    const raw = message('pop')
    const res = await gw.app.inject({ method: 'POST', url: `/v1/mailboxes/${inbox.id}/messages`, headers: { authorization: `Bearer ${pop}`, 'content-type': 'message/rfc822', 'content-length': String(raw.length) }, payload: raw })
    assert.equal(res.statusCode, 422, res.body)
  })
})

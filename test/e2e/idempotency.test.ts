/**
 * Idempotency-Key on POST writes: a retried APPEND or mailbox create acts
 * once (counted on the real Dovecot with the raw IMAP session), another
 * request under the key is 422, a retry while the first runs is 409.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { imapSession } from '../env/sessions.ts'
import { startGateway, type Gateway } from './gateway.ts'

const message = (subject: string): Buffer => Buffer.from(`From: Ann <ann@example.com>\r\nSubject: ${subject}\r\n\r\nbody\r\n`)

describe('Idempotency-Key', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: { username: string, password: string }
  let token: string
  let drafts: string

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('idem')
    token = (await gw.login(user)).token
    drafts = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }).items.find(m => m.path === 'Drafts')!.id
  })
  after(async () => { await gw?.close() })

  const append = (key: string, body: Buffer | Readable, length: number) => gw.app.inject({
    method: 'POST',
    url: `/v1/mailboxes/${drafts}/messages`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', 'content-length': String(length), 'idempotency-key': key },
    payload: body,
  })

  async function count (path: string): Promise<number> {
    const raw = await imapSession(gw.env.dovecot.ports.imap, user)
    try {
      const line = (await raw.run(`STATUS "${path}" (MESSAGES)`)).find(l => l.startsWith('* STATUS'))!
      return Number(/MESSAGES (\d+)/.exec(line)![1])
    } finally { raw.close() }
  }

  it('a retried APPEND returns the first answer and appends once; the same key with another body → 422', async () => {
    const raw = message('once')
    const first = await append('"k-append-1"', raw, raw.length)
    assert.equal(first.statusCode, 201, first.body)
    const retry = await append('"k-append-1"', raw, raw.length)
    assert.equal(retry.statusCode, 201, retry.body)
    assert.deepEqual(retry.json(), first.json())
    assert.equal(retry.headers.location, first.headers.location)
    assert.equal(retry.headers['idempotent-replayed'], 'true')
    assert.equal(await count('Drafts'), 1)
    const other = message('other')
    const clash = await append('"k-append-1"', other, other.length)
    assert.equal(clash.statusCode, 422, clash.body)
    assert.equal(clash.json().code, 'idempotency-conflict')
    assert.equal(clash.json().status, 422)
    assert.equal(await count('Drafts'), 1)
  })

  it('a retry while the first still runs → 409 idempotency-conflict', async () => {
    const raw = message('slow')
    const slow = new Readable({ read () {} })
    slow.push(raw.subarray(0, 10))
    const first = append('k-slow', slow, raw.length)
    await new Promise(resolve => setTimeout(resolve, 300))
    const second = await append('k-slow', raw, raw.length)
    assert.equal(second.statusCode, 409, second.body)
    assert.equal(second.json().code, 'idempotency-conflict')
    slow.push(raw.subarray(10))
    slow.push(null)
    assert.equal((await first).statusCode, 201)
  })

  it('a retried mailbox create acts once and answers 201 again (not 409 already-exists)', async () => {
    const create = () => gw.app.inject({ method: 'POST', url: '/v1/mailboxes', headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'k-create' }, payload: { name: 'Once' } })
    const first = await create()
    assert.equal(first.statusCode, 201, first.body)
    const retry = await create()
    assert.equal(retry.statusCode, 201, retry.body)
    assert.deepEqual(retry.json(), first.json())
    // without the key, the same request does reach the server again
    const plain = await gw.app.inject({ method: 'POST', url: '/v1/mailboxes', headers: { authorization: `Bearer ${token}` }, payload: { name: 'Once' } })
    assert.equal(plain.statusCode, 409)
  })

  it('a retried move (another route, same hook) answers the first result and moves once', async () => {
    const archive = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }).items.find(m => m.path === 'Archive')!.id
    await gw.env.dovecot.deliver(user.username, message('to move'), { mailbox: 'Junk' })
    const junk = ((await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }).items.find(m => m.path === 'Junk')!.id
    const id = ((await gw.get(`/v1/mailboxes/${junk}/messages`, token)).json() as { items: Array<{ id: string }> }).items[0]!.id
    const move = () => gw.app.inject({ method: 'POST', url: `/v1/messages/${id}/move`, headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'k-move' }, payload: { mailboxId: archive } })
    const first = await move()
    assert.equal(first.statusCode, 200, first.body)
    const retry = await move()
    assert.equal(retry.statusCode, 200, retry.body)
    assert.deepEqual(retry.json(), first.json())
    assert.equal(await count('Junk'), 0)
    assert.equal(await count('Archive'), 1)
  })

  it('keys are per account: another account\'s identical key is a fresh request', async () => {
    const other = await gw.env.dovecot.createUser('idem2')
    const otherToken = (await gw.login(other)).token
    const res = await gw.app.inject({ method: 'POST', url: '/v1/mailboxes', headers: { authorization: `Bearer ${otherToken}`, 'idempotency-key': 'k-create' }, payload: { name: 'Once' } })
    assert.equal(res.statusCode, 201, res.body)
    assert.notEqual(res.headers['idempotent-replayed'], 'true')
  })
})

describe('Idempotency-Key across two gateway instances sharing Redis', { timeout: 120_000 }, () => {
  let a: Gateway
  let b: Gateway

  before(async () => { [a, b] = [await startGateway({ redis: true }), await startGateway({ redis: true })] })
  after(async () => { await Promise.all([a?.close(), b?.close()]) })

  it('the same new key sent to both at once appends once; a retry on either replays the first answer', async () => {
    const user = await a.env.dovecot.createUser('idem-two')
    const token = (await a.login(user)).token
    const drafts = ((await a.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }).items.find(m => m.path === 'Drafts')!.id
    const raw = message('twice sent')
    const append = (gw: Gateway, key: string) => gw.app.inject({
      method: 'POST',
      url: `/v1/mailboxes/${drafts}/messages`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', 'content-length': String(raw.length), 'idempotency-key': key },
      payload: raw,
    })
    const rounds = 4
    for (let round = 0; round < rounds; round++) {
      const key = `k-two-${round}`
      const answers = await Promise.all([append(a, key), append(b, key)])
      const created = answers.filter(r => r.statusCode === 201 && r.headers['idempotent-replayed'] !== 'true')
      assert.equal(created.length, 1, answers.map(r => `${r.statusCode} ${r.body}`).join(' | '))
      for (const r of answers) assert.ok(r.statusCode === 201 || r.statusCode === 409, r.body)
      const retry = await append(round % 2 === 0 ? b : a, key)
      assert.equal(retry.statusCode, 201, retry.body)
      assert.equal(retry.headers['idempotent-replayed'], 'true')
      assert.deepEqual(retry.json(), created[0]!.json())
    }
    const status = await imapSession(a.env.dovecot.ports.imap, user)
    try {
      const line = (await status.run('STATUS "Drafts" (MESSAGES)')).find(l => l.startsWith('* STATUS'))!
      assert.equal(Number(/MESSAGES (\d+)/.exec(line)![1]), rounds, 'one APPEND per key on the server')
    } finally { status.close() }
  })
})

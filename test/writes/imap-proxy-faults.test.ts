/**
 * Faults a real server will not produce on demand, staged by a proxy in front
 * of the harness Dovecot (proxy.ts):
 * - the connection dropped in the middle of a MOVE: the command reached the
 *   server, its answer never reached the gateway. The caller gets an error
 *   (the write is not retried: a second MOVE would find nothing and answer
 *   404), the message is in exactly one of the two mailboxes — the target,
 *   since the server acted — and the next read goes to the server, not to
 *   what was cached;
 * - a server that silently drops a keyword (the proxy strips `dropme` from the
 *   STORE): the keyword is reported, never claimed;
 * - a server that does not say where a message went (MOVE without UIDPLUS, so
 *   no COPYUID): a delete to Trash answers the Trash mailbox and a null id.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import type { TestUser } from '../env/dovecot-ops.ts'
import { flagsIn, loginVia, mail, mailboxIds, messageIds, raw, subjectsIn } from './helpers.ts'
import { startProxy, type Proxy } from './proxy.ts'

describe('faults staged by a proxy', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: TestUser
  let proxy: Proxy

  before(async () => {
    gw = await startGateway()
    proxy = await startProxy(gw.env.dovecot.ports.imap)
    user = await gw.env.dovecot.createUser('proxied')
    await gw.env.dovecot.deliverMany(user.username, [{ raw: mail('in flight') }, { raw: mail('labelled') }, { raw: mail('unplaced') }])
  })
  after(async () => {
    proxy?.close()
    await gw?.close()
  })

  it('a drop mid-MOVE answers an error, leaves the message in exactly one mailbox (the target), and the old id is not served from the cache', async () => {
    const send = await loginVia(gw, proxy.port, user)
    const boxes = await mailboxIds(send)
    const id = (await messageIds(send, boxes.get('INBOX')!)).get('in flight')!
    assert.equal((await send('GET', `/v1/messages/${id}`)).statusCode, 200) // cached

    proxy.cutAfter = (chunk) => chunk.toString('latin1').includes(' UID MOVE ')
    const res = await send('POST', `/v1/messages/${id}/move`, { mailboxId: boxes.get('Archive') })
    assert.equal(proxy.cuts, 1, 'the proxy cut the connection under the MOVE')
    assert.ok([502, 504].includes(res.statusCode), `${res.statusCode} ${res.body}`)

    await sleep(100)
    const session = await raw(gw, user)
    try {
      const where = []
      for (const box of ['INBOX', 'Archive']) if ((await subjectsIn(session, box)).has('in flight')) where.push(box)
      assert.deepEqual(where, ['Archive'])
    } finally {
      session.close()
    }
    assert.equal((await send('GET', `/v1/messages/${id}`)).statusCode, 404, 'the old id is not served from the cache')
  })

  it('a keyword the server drops is listed in `dropped` and absent from the keywords answered and read back', async () => {
    proxy.toServer = (chunk) => {
      const line = chunk.toString('latin1')
      return line.includes(' UID STORE ') ? Buffer.from(line.replace(/dropme ?/g, ''), 'latin1') : chunk
    }
    const send = await loginVia(gw, proxy.port, user)
    const id = (await messageIds(send, (await mailboxIds(send)).get('INBOX')!)).get('labelled')!
    const res = await send('PATCH', `/v1/messages/${id}`, { keywords: { dropme: true, $seen: true } })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as { keywords: string[], dropped: string[] }
    assert.deepEqual(body.keywords, ['$seen'])
    assert.deepEqual(body.dropped, ['dropme'])
    assert.deepEqual((await send('GET', `/v1/messages/${id}`)).json().keywords, ['$seen'])
    const session = await raw(gw, user)
    try {
      const uid = (await subjectsIn(session, 'INBOX')).get('labelled')!
      assert.deepEqual((await flagsIn(session, 'INBOX')).get(uid), ['\\Seen'])
    } finally {
      session.close()
    }
  })

  it('without UIDPLUS (no COPYUID) a delete to Trash answers the Trash mailbox and a null id', async () => {
    proxy.cutAfter = () => false
    // a server with MOVE but without UIDPLUS: it never says where a message went
    proxy.toClient = (chunk) => Buffer.from(chunk.toString('latin1').replace(/\[COPYUID [^\]]*\] ?/g, '').replace(/ UIDPLUS(?=[ \]\r])/g, ''), 'latin1')
    const send = await loginVia(gw, proxy.port, user)
    const boxes = await mailboxIds(send)
    const id = (await messageIds(send, boxes.get('INBOX')!)).get('unplaced')!
    const res = await send('DELETE', `/v1/messages/${id}`)
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json(), { id: null, mailboxId: boxes.get('Trash') })
    const session = await raw(gw, user)
    try {
      assert.equal((await subjectsIn(session, 'Trash')).has('unplaced'), true)
    } finally {
      session.close()
    }
  })
})

/**
 * Hostile mail content must not make a mailbox unusable: a message whose
 * header block is several MiB neither fails the list page it is on nor its
 * own read, and the other messages of the page stay readable.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Message, MessagePage } from '../../src/mail/types.ts'
import { startGateway, type Gateway } from './gateway.ts'

const huge = Buffer.concat([
  Buffer.from('From: spam@example.com\r\nSubject: huge header\r\n'),
  Buffer.from(Array.from({ length: 60_000 }, (_, i) => `X-Junk-${i}: ${'z'.repeat(80)}\r\n`).join('')),
  Buffer.from('\r\nbody\r\n'),
])
const normal = Buffer.from('From: ann@example.com\r\nSubject: normal\r\n\r\nhello\r\n')

describe('hostile mail', { timeout: 60_000 }, () => {
  let gw: Gateway
  before(async () => { gw = await startGateway() })
  after(async () => { await gw?.close() })

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: a ${Math.round(huge.length / 1048576)} MiB header block breaks neither the list nor the reads`, async () => {
      const user = await gw.env.dovecot.createUser(`hostile-${protocol}`)
      await gw.env.dovecot.deliverMany(user.username, [{ raw: normal }, { raw: huge }])
      const { token } = await gw.login(user, { protocol })
      const boxes = (await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, role: string }> }
      const inbox = boxes.items.find(m => m.role === 'inbox')!
      const res = await gw.get(`/v1/mailboxes/${inbox.id}/messages`, token)
      assert.equal(res.statusCode, 200, res.body)
      const page = res.json() as MessagePage
      assert.deepEqual(page.items.map(i => i.subject), ['huge header', 'normal'])
      for (const item of page.items) {
        const got = await gw.get(`/v1/messages/${item.id}`, token)
        assert.equal(got.statusCode, 200, got.body.slice(0, 200))
        assert.equal((got.json() as Message).subject, item.subject)
      }
    })
  }
})

/**
 * Messages whose header block ends without an empty line (RFC 5322 §2.2),
 * delivered to the real Dovecot and read through the REST API over IMAP and
 * over POP3: each shows its reviewed golden (test/golden/header-end/), its
 * attachments stream their declared sizes, and a list item's subject is the
 * message's.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Message, MessagePage } from '../../src/mail/types.ts'
import { headerEndCases, readGolden, shown } from '../normalise/header-end-cases.ts'
import { startGateway, type Gateway } from './gateway.ts'

const cases = headerEndCases()

describe('header blocks that end without an empty line, through the API', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: { username: string, password: string }

  before(async () => {
    gw = await startGateway()
    user = await gw.env.dovecot.createUser('header-end')
    await gw.env.dovecot.deliverMany(user.username, cases.map(c => ({ raw: c.raw })))
  })
  after(async () => { await gw?.close() })

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: every crafted message shows its golden`, async () => {
      const { token } = await gw.login(user, { protocol })
      const mailboxes = (await gw.get('/v1/mailboxes', token)).json() as { items: Array<{ id: string, path: string }> }
      const inbox = mailboxes.items.find(m => m.path === 'INBOX')
      assert.ok(inbox)
      const page = (await gw.get(`/v1/mailboxes/${inbox.id}/messages?limit=50`, token)).json() as MessagePage
      assert.equal(page.items.length, cases.length)
      const seen = new Set<string>()
      for (const item of page.items) {
        const res = await gw.get(`/v1/messages/${item.id}`, token)
        assert.equal(res.statusCode, 200, res.body)
        const message = res.json() as Message
        const c = cases.find(c => readGolden(c).subject === message.subject)
        assert.ok(c, `a golden with the subject ${JSON.stringify(message.subject)}`)
        seen.add(c.name)
        assert.deepStrictEqual(shown(message), readGolden(c), c.name)
        assert.equal(item.subject, message.subject, `${c.name}: list item and message agree`)
        for (const att of message.attachments) {
          const a = await gw.get(att.url, token)
          assert.equal(a.statusCode, 200, a.body)
          assert.equal(a.rawPayload.length, att.size, `${c.name}: ${att.filename} streams its declared size`)
        }
      }
      assert.equal(seen.size, cases.length, 'every case read once')
    })
  }
})

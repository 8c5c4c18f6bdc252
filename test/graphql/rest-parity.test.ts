/**
 * GraphQL returns what REST returns for every shared field, on an IMAP and a
 * POP3 account. Here REST's side is the service's answer as JSON (exactly what
 * the REST face serialises); the real-backend run of the same helper (REST over
 * HTTP against Dovecot) lives with the end-to-end tests.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build } from './helpers.ts'
import { IMAP_TOKEN, imapAccount, mailboxId, POP3_TOKEN, pop3Account } from './fake-data.ts'
import { assertSameFields, graphqlAccount, graphqlMailboxes, graphqlMessage, graphqlMessagePage, summarySelection } from './parity.ts'

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v))

for (const [protocol, token, account] of [['imap', IMAP_TOKEN, imapAccount], ['pop3', POP3_TOKEN, pop3Account]] as const) {
  test(`${protocol}: a page of messages, its next page, and each message by id match REST field for field`, async (t) => {
    const { app, fake } = await build(t)
    const caller = await fake.authenticate(token)
    const inbox = mailboxId(account, 'INBOX')

    let after: string | undefined
    let compared = 0
    for (let i = 0; i < 2; i++) {
      const rest = json(await fake.listMessages(caller, inbox, after === undefined ? { limit: 20 } : { limit: 20, cursor: after }))
      const gql = await graphqlMessagePage(app, token, inbox, after === undefined ? { first: 20 } : { first: 20, after })
      compared += assertSameFields(rest, gql, `page ${i}`)
      assert.ok(gql.items.length > 0)
      assert.ok(gql.nextCursor !== null || i === 1)
      after = gql.nextCursor ?? undefined
    }
    assert.ok(compared > 25 * 13, `only ${compared} values compared`)

    const page = await graphqlMessagePage(app, token, inbox, { first: 5, bodies: true })
    for (const item of page.items) {
      const rest = json((await fake.getMessage(caller, String(item.id))).message)
      assertSameFields(rest, await graphqlMessage(app, token, String(item.id)), 'message')
      // Body fields read through a page equal GET /v1/messages/{id}, summary fields equal the list item.
      const { hasAttachment, ...restBody } = rest
      assertSameFields(restBody, item, 'page item with bodies')
      if (protocol === 'imap') assert.equal(item.hasAttachment, hasAttachment)
    }
  })

  test(`${protocol}: account and mailboxes match REST`, async (t) => {
    const { app, fake } = await build(t)
    const caller = await fake.authenticate(token)
    assertSameFields(json(caller.account), await graphqlAccount(app, token), 'account')
    assertSameFields(json(await fake.listMailboxes(caller)), await graphqlMailboxes(app, token), 'mailboxes')
  })
}

test('the helper fails on a differing value, a missing field, and a stray capability', () => {
  assert.throws(() => assertSameFields({ a: { b: [1, 2] } }, { a: { b: [1, 3] } }), /a\.b\[1\]/)
  assert.throws(() => assertSameFields({ a: 1, c: null }, { a: 1 }), /\$\.c: in REST, missing/)
  assert.throws(() => assertSameFields({ capabilities: { top: true } }, { capabilities: { top: true, idle: false } }), /idle: not reported by REST/)
  assert.equal(assertSameFields({ a: 1 }, { a: 1, extra: 2 }), 1)
  assert.match(summarySelection(), /from \{ email name \}|from \{ name email \}/)
  assert.doesNotMatch(summarySelection(), /\btext\b/)
})

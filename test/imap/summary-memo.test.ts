// Two accounts whose INBOXes have the same UIDVALIDITY (set on purpose, not by chance of the
// second they were created in) never see each other's list summaries from the memo.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { env, mail, makeBackend, newAccount } from './helpers.ts'

const { backend } = makeBackend()
after(async () => { await backend.close() })

const UIDVALIDITY = 1_234_567

test('two accounts with the same UIDVALIDITY never see each other\'s list summaries', async () => {
  const ann = await newAccount('memo-ann')
  const bob = await newAccount('memo-bob')
  for (const [who, { user }] of [['ann', ann], ['bob', bob]] as const) {
    const [d] = await env.dovecot.deliverMany(user.username, [{ raw: mail({ subject: `only for ${who}`, from: `${who} <${who}@example.com>` }) }])
    assert.equal(d?.uid, 1)
    await env.dovecot.setUidValidity(user.username, 'INBOX', UIDVALIDITY)
  }
  const list = async (ctx: typeof ann.ctx) => (await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })).items
  const hitsBefore = backend.summaryHits()
  for (let round = 0; round < 2; round++) {
    for (const [who, account] of [['ann', ann], ['bob', bob]] as const) {
      const items = await list(account.ctx)
      assert.deepEqual(items.map(i => [i.key.validity, i.key.key]), [[String(UIDVALIDITY), '1']], 'same mailbox, UIDVALIDITY and UID')
      assert.equal(items[0]?.subject, `only for ${who}`, `round ${round}`)
      assert.deepEqual(items[0]?.from, [{ name: who, email: `${who}@example.com` }])
    }
  }
  // the second round came from the memo, each account's own entries
  assert.equal(backend.summaryHits() - hitsBefore, 2)
})

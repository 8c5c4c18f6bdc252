// Reads sharing one batched FETCH against the harness Dovecot: a large message
// answers the reads waiting for it as soon as it is parsed, not when the batch
// ends, so a batch never holds every large message's record at once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteBudget } from '../../src/util/byte-budget.ts'
import { env, mail, mailOfSize, makeBackend, newAccount } from './helpers.ts'

const MiB = 1024 * 1024

test('a large message of a batch answers its read while the batch still streams the others; small ones come at the end', async () => {
  const budget = new ByteBudget(64 * MiB, { groupShare: 1 })
  // one connection: the reads below all wait for its login and share one batch
  const { backend, clients } = makeBackend({ parseBudget: budget, maxPerAccount: 1 })
  try {
    const { user, ctx } = await newAccount('batch-delivery')
    const raws = [mailOfSize('large 0', 1.5 * MiB), mailOfSize('large 1', 1.5 * MiB), mailOfSize('large 2', 1.5 * MiB), mail({ subject: 'small' })]
    const delivered = await env.dovecot.deliverMany(user.username, raws.map(raw => ({ raw })))
    const keys = delivered.map(d => ({ mailbox: 'INBOX', validity: String(d.uidValidity), key: String(d.uid) }))

    const joinedBefore = backend.joinedReads()
    // whether the batch still held its share of the parse budget (it does until it ends) when each read was answered
    const batchRunning: boolean[] = []
    const reads = keys.map(async (k, i) => {
      const [m] = await backend.getMessages(ctx, [k])
      batchRunning[i] = budget.stats().available < budget.stats().capacity
      return m
    })
    const got = await Promise.all(reads)
    assert.equal(backend.joinedReads() - joinedBefore, 3, 'the four reads shared one batch')
    assert.equal(clients.length, 1)
    assert.deepEqual(got.map(m => m?.subject), ['large 0', 'large 1', 'large 2', 'small'])
    got.forEach((m, i) => assert.equal(m?.size, raws[i]!.length))
    // the first large message was answered while the other two were still to stream
    assert.equal(batchRunning[0], true, 'the first large read was answered before the batch ended')
    assert.equal(batchRunning[1], true, 'so was the second')
    assert.equal(batchRunning[3], false, 'the small one is answered once the batch is done')
    assert.deepEqual(budget.stats(), { capacity: 64 * MiB, available: 64 * MiB, waiting: 0 })
  } finally {
    await backend.close()
  }
})

// Reads and the process-wide parse budget against the harness Dovecot: a read
// waits its turn, and waits holding no connection.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { GatewayError } from '../../src/mail/errors.ts'
import { ByteBudget } from '../../src/util/byte-budget.ts'
import { waitFor } from '../env/wait.ts'
import { env, mail, mailOfSize, makeBackend, newAccount } from './helpers.ts'

const MiB = 1024 * 1024

test('getMessages waits for the parse budget while it is spent elsewhere, then reads whole and gives it back', async () => {
  // 1 MiB in all: the 1 MiB + 5 message (streamed, counts 8 MiB) is clamped to the whole budget and read alone
  const budget = new ByteBudget(1024 * 1024, { groupShare: 1 })
  const { backend: budgeted } = makeBackend({ parseBudget: budget })
  try {
    const { user, ctx } = await newAccount('read-budget')
    const raws = [mailOfSize('longer', 700 * 1024), mailOfSize('large', 1024 * 1024 + 5), mail({ subject: 'small' })]
    const delivered = await env.dovecot.deliverMany(user.username, raws.map(raw => ({ raw })))
    const keys = delivered.map(d => ({ mailbox: 'INBOX', validity: String(d.uidValidity), key: String(d.uid) }))

    const hog = budget.permit()
    await hog.acquire(1)
    let settled = false
    const reads = keys.map(k => budgeted.getMessages(ctx, [k]))
    const all = Promise.all(reads).finally(() => { settled = true })
    await waitFor(() => budget.stats().waiting >= 1, 5000, 'a read queues for the budget')
    assert.equal(settled, false, 'no read finishes while its share of the budget is held elsewhere')
    hog.release()
    const got = (await all).map(r => r[0])
    assert.deepEqual(got.map(m => m?.subject), ['longer', 'large', 'small'])
    got.forEach((m, i) => assert.equal(m?.size, raws[i]!.length))
    assert.deepEqual(budget.stats(), { capacity: 1024 * 1024, available: 1024 * 1024, waiting: 0 })
  } finally {
    await budgeted.close()
  }
})

test('a read waiting for the budget holds no connection, and outlasting the operation deadline is not a timeout', async () => {
  const budget = new ByteBudget(MiB, { groupShare: 1 })
  // one connection per account; an operation on it may take 4 × 500 ms
  const { backend, clients } = makeBackend({ parseBudget: budget, maxPerAccount: 1, timeoutMs: 500 })
  try {
    const { user, ctx } = await newAccount('read-budget-lease')
    const raw = mailOfSize('longer', 700 * 1024) // past the first FETCH's prefix: needs the budget
    const [d] = await env.dovecot.deliverMany(user.username, [{ raw }])
    const key = { mailbox: 'INBOX', validity: String(d!.uidValidity), key: String(d!.uid) }
    const hog = budget.permit()
    await hog.acquire(MiB)
    let settled = false
    const read = backend.getMessages(ctx, [key]).finally(() => { settled = true })
    await waitFor(() => budget.stats().waiting === 1, 5000, 'the read queues for the budget')
    // the account's one connection is free while the read waits
    const page = await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
    assert.deepEqual(page.items.map(i => i.subject), ['longer'])
    await sleep(2500) // past the operation's deadline (2 s)
    assert.equal(settled, false, 'still waiting for the budget, not failed')
    hog.release()
    const [m] = await read
    assert.equal(m?.subject, 'longer')
    assert.equal(m?.size, raw.length)
    assert.equal(m?.text, raw.subarray(raw.indexOf('\r\n\r\n') + 4).toString('latin1').replace(/\r\n/g, '\n'))
    assert.equal(clients.length, 1, 'the waiting read gave its connection back and leased it again: no second login')
    assert.deepEqual(budget.stats(), { capacity: MiB, available: MiB, waiting: 0 })
  } finally {
    await backend.close()
  }
})

test('a read the budget keeps waiting past its bound is told the gateway is busy: 429 with Retry-After', async () => {
  const budget = new ByteBudget(MiB, { groupShare: 1, maxWaitMs: 200 })
  const { backend } = makeBackend({ parseBudget: budget })
  try {
    const { user, ctx } = await newAccount('read-budget-busy')
    const [d] = await env.dovecot.deliverMany(user.username, [{ raw: mail({ subject: 'small' }) }])
    const key = { mailbox: 'INBOX', validity: String(d!.uidValidity), key: String(d!.uid) }
    const hog = budget.permit()
    await hog.acquire(MiB)
    await assert.rejects(backend.getMessages(ctx, [key]), (err: unknown) =>
      err instanceof GatewayError && err.code === 'rate-limited' && err.retryAfter !== undefined && err.retryAfter > 0)
    assert.deepEqual(budget.stats(), { capacity: MiB, available: 0, waiting: 0 }, 'it left the queue')
    hog.release()
    const [m] = await backend.getMessages(ctx, [key])
    assert.equal(m?.subject, 'small', 'read once the budget is free')
  } finally {
    await backend.close()
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventQueue, Refusal } from '../../src/graphql/subscriptions/event-queue.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { matchesFilter, parseEventFilter } from '../../src/mail/event-filter.ts'
import { accountIdOf, encodeMailboxId } from '../../src/mail/ids.ts'
import type { Caller } from '../../src/mail/service-types.ts'
import { TokenLifetimes } from '../../src/mail/token-lifetimes.ts'
import { waitFor } from '../env/wait.ts'
import { event } from './helpers.ts'

const account = accountIdOf({ protocol: 'imap', host: 'mail.example.com', port: 993, username: 'alice' })
const other = accountIdOf({ protocol: 'imap', host: 'mail.example.com', port: 993, username: 'bob' })
const inbox = encodeMailboxId(account, 'INBOX')
const archive = encodeMailboxId(account, 'Archive')

test('a slow reader: events past the bound are dropped for one stream.reset, then delivery goes on', async () => {
  let closed = 0
  const queue = new EventQueue(account, 10, () => { closed++ })
  const sent = Array.from({ length: 25 }, () => event(account, 'message.created', inbox))
  for (const e of sent) queue.push(e)
  assert.ok(queue.length <= 11, `held ${queue.length}`)
  const first = await queue.next()
  assert.equal((first.value as { type: string }).type, 'stream.reset')
  const rest: string[] = []
  while (queue.length > 0) rest.push(((await queue.next()).value as { id: string }).id)
  assert.deepEqual(rest, sent.slice(-rest.length).map(e => e.id), 'the newest events, in order')
  await queue.return()
  await queue.return()
  assert.equal(closed, 1)
  queue.push(event(account, 'message.created', inbox))
  assert.deepEqual(await queue.next(), { value: undefined, done: true })
})

test('a waiting reader gets the next event; closing wakes it with done', async () => {
  const queue = new EventQueue(account, 10, () => {})
  const waiting = queue.next()
  const e = event(account, 'message.deleted', inbox)
  queue.push(e)
  assert.deepEqual(await waiting, { value: e, done: false })
  const idle = queue.next()
  queue.close()
  assert.deepEqual(await idle, { value: undefined, done: true })
})

test('a refused subscription yields its refusal once, then ends', async () => {
  const err = new GatewayError('rate-limited')
  const queue = EventQueue.refused(err)
  const first = await queue.next()
  assert.ok(first.value instanceof Refusal && first.value.reason === err)
  assert.equal((await queue.next()).done, true)
})

test('event filters: checked inside the account; account-wide events pass a mailbox filter; stream.reset passes all', () => {
  assert.throws(() => parseEventFilter(account, { types: ['nope'] }), (e: GatewayError) => e.code === 'bad-request')
  assert.throws(() => parseEventFilter(account, { types: [] }), (e: GatewayError) => e.code === 'bad-request')
  assert.throws(() => parseEventFilter(account, { mailboxIds: ['***'] }), (e: GatewayError) => e.code === 'bad-request')
  assert.throws(() => parseEventFilter(account, { mailboxIds: [encodeMailboxId(other, 'INBOX')] }), (e: GatewayError) => e.code === 'not-found')
  assert.throws(() => parseEventFilter(account, { mailboxIds: Array(101).fill(inbox) }), (e: GatewayError) => e.code === 'bad-request')
  const all = parseEventFilter(account, {})
  assert.equal(matchesFilter(all, event(account, 'mailbox.deleted', archive)), true)
  const f = parseEventFilter(account, { mailboxIds: [inbox], types: ['message.created', 'account.error'] })
  assert.equal(matchesFilter(f, event(account, 'message.created', inbox)), true)
  assert.equal(matchesFilter(f, event(account, 'message.created', archive)), false)
  assert.equal(matchesFilter(f, event(account, 'message.updated', inbox)), false)
  assert.equal(matchesFilter(f, event(account, 'account.error', null)), true)
  assert.equal(matchesFilter(f, event(account, 'stream.reset', null)), true)
})

const caller = (tokenId: string, expiresInMs: number): Caller => ({ tokenId, expiresAt: Date.now() + expiresInMs } as Caller)

test('token lifetimes: expiry, revocation here, revocation seen by the recheck; releases leave nothing', async () => {
  const revokedElsewhere = new Set<string>()
  const lifetimes = new TokenLifetimes(async id => revokedElsewhere.has(id), 50)
  const ends: string[] = []
  lifetimes.watch(caller('a', 100), why => ends.push(`a:${why}`))
  lifetimes.watch(caller('b', 60_000), why => ends.push(`b:${why}`))
  lifetimes.watch(caller('b', 60_000), why => ends.push(`b2:${why}`))
  const release = lifetimes.watch(caller('c', 60_000), why => ends.push(`c:${why}`))
  lifetimes.watch(caller('d', 60_000), why => ends.push(`d:${why}`))
  await waitFor(() => ends.includes('a:expired'), 5_000, 'the expiry')
  lifetimes.revoked('b')
  assert.deepEqual(ends.sort(), ['a:expired', 'b2:revoked', 'b:revoked'])
  revokedElsewhere.add('d')
  await waitFor(() => ends.includes('d:revoked'), 5_000, 'the recheck')
  release()
  release()
  assert.equal(lifetimes.size, 0)
  assert.deepEqual(ends.filter(e => e.startsWith('c')), [])
})

test('token lifetimes: subscriber slots per token', () => {
  const lifetimes = new TokenLifetimes(async () => false, 0)
  const one = lifetimes.claim(caller('t', 60_000), 2)
  const two = lifetimes.claim(caller('t', 60_000), 2)
  assert.throws(() => lifetimes.claim(caller('t', 60_000), 2), (e: GatewayError) => e.code === 'rate-limited')
  lifetimes.claim(caller('u', 60_000), 2)()
  one()
  one()
  lifetimes.claim(caller('t', 60_000), 2)()
  two()
  assert.equal(lifetimes.size, 0)
})

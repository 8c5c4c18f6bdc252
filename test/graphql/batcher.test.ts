/**
 * The request's message batcher keeps what a response can show, not whole
 * messages: bodies cut at the largest maxBodyBytes asked for each id, and ids
 * whose list sizes pass CALL_BYTES fetched in consecutive calls, one call's
 * messages cut before the next call starts.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CALL_BYTES, createMessageBatcher } from '../../src/graphql/batcher.ts'
import type { GatewayError } from '../../src/mail/errors.ts'
import type { Message } from '../../src/mail/types.ts'

const BODY = 'x'.repeat(2 * 1024 * 1024)

function message (id: string): Message {
  return {
    id,
    mailboxId: 'mb',
    protocol: 'imap',
    messageId: null,
    subject: id,
    from: [],
    to: [],
    cc: [],
    sentAt: null,
    receivedAt: null,
    size: 5_700_000,
    keywords: [],
    modseq: null,
    hasAttachment: false,
    sender: [],
    bcc: [],
    replyTo: [],
    inReplyTo: [],
    references: [],
    preview: '',
    text: BODY,
    html: `<p>${BODY}</p>`,
    textTruncated: false,
    htmlTruncated: false,
    attachments: [],
    headers: [],
  }
}

/** A stub service: records each call's ids and how many calls were running at once. */
function stub (): { fetch: (ids: string[]) => Promise<Array<Message | GatewayError>>, calls: string[][], overlap: number } {
  const s = { calls: [] as string[][], overlap: 0, running: 0, fetch: async (ids: string[]) => ids.map(message) }
  s.fetch = async (ids: string[]) => {
    s.calls.push(ids)
    s.running++
    s.overlap = Math.max(s.overlap, s.running)
    await new Promise(resolve => setTimeout(resolve, 5))
    s.running--
    return ids.map(message)
  }
  return s
}

test('large messages of one page are fetched in consecutive calls, small ones together', async () => {
  const s = stub()
  const batcher = createMessageBatcher(s.fetch)
  const big = Array.from({ length: 12 }, (_, i) => `big${i}`)
  const small = Array.from({ length: 20 }, (_, i) => `small${i}`)
  await Promise.all([
    ...big.map(id => batcher.load(id, { cap: 1024, size: 5_700_000 })),
    ...small.map(id => batcher.load(id, { cap: 1024, size: 10_000 })),
  ])
  assert.equal(s.overlap, 1, 'one call at a time')
  for (const call of s.calls.slice(0, 12)) assert.equal(call.length, 1)
  assert.deepEqual(s.calls.flat(), [...big, ...small])
  assert.equal(s.calls.length, 13, 'the twenty small messages in one call')
  assert.ok(20 * 10_000 <= CALL_BYTES)
})

test('the kept message is cut at the largest cap asked in the turn, and flagged', async () => {
  const s = stub()
  const batcher = createMessageBatcher(s.fetch)
  const [a, b, c] = await Promise.all([batcher.load('m', { cap: 0 }), batcher.load('m', { cap: 4096 }), batcher.load('m', { cap: 100 })])
  assert.equal(s.calls.length, 1)
  assert.equal(a, b)
  assert.equal(b, c)
  assert.equal(a!.text!.length, 4096)
  assert.ok(a!.textTruncated && a!.htmlTruncated)
  assert.ok(a!.html!.length <= 4096)
})

test('a later load asking for more than was kept fetches again; one asking for less does not', async () => {
  const s = stub()
  const batcher = createMessageBatcher(s.fetch)
  assert.equal((await batcher.load('m', { cap: 100 })).text!.length, 100)
  assert.equal((await batcher.load('m', { cap: 50 })).text!.length, 100)
  assert.equal(s.calls.length, 1)
  const whole = await batcher.load('m')
  assert.equal(whole.text, BODY)
  assert.equal(whole.textTruncated, false)
  assert.equal(s.calls.length, 2)
})

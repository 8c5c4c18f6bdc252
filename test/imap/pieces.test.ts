// Pure pieces of the IMAP backend: UID sets, keywords, roles, BODYSTRUCTURE conversion, errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ImapFlow, MessageStructureObject } from 'imapflow'
import { UidSet } from '../../src/backends/imap/uid-set.ts'
import { keywordsOf } from '../../src/backends/imap/keywords.ts'
import { roleOf } from '../../src/backends/imap/mailboxes.ts'
import { partTreeFromBodystructure } from '../../src/backends/imap/bodystructure.ts'
import { isConnectionDrop, isConnectionFatal, toGatewayError, UpstreamRefusal } from '../../src/backends/imap/errors.ts'
import { complete, decodePosition, encodePosition, utcIso } from '../../src/backends/imap/list-messages.ts'
import { mergedByUid } from '../../src/backends/imap/fetch-rows.ts'
import { fetchMessagesIn, recordsOf } from '../../src/backends/imap/get-messages.ts'
import { isShort } from '../../src/backends/budget-wait.ts'
import { createSession, type ImapSession } from '../../src/backends/imap/session.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { PoolTimeoutError } from '../../src/pool/index.ts'

test('UidSet counts and pages a sequence set without expanding it', () => {
  const set = UidSet.fromSequence('1:3,7,5,10:4000000')
  assert.equal(set.size, 3 + 1 + 1 + 3_999_991)
  assert.deepEqual(set.descending(3, null), [4_000_000, 3_999_999, 3_999_998])
  assert.deepEqual(set.descending(4, 11), [10, 7, 5, 3])
  assert.deepEqual(set.descending(5, 2), [1])
  assert.deepEqual(set.descending(5, 1), [])
  assert.ok(set.has(7) && !set.has(6) && set.has(10) && !set.has(4_000_001))
})

test('UidSet difference and union', () => {
  const wide = UidSet.fromList([1, 2, 3, 4, 9, 10])
  const sure = UidSet.fromSequence('2:3')
  assert.deepEqual(wide.minusList(sure, 10), [1, 4, 9, 10])
  assert.throws(() => wide.minusList(sure, 3))
  assert.deepEqual(sure.union(UidSet.fromList([4, 9])).ranges, [[2, 4], [9, 9]])
  assert.throws(() => UidSet.fromSequence('1:*'))
})

test('flags become JMAP keywords; \\Recent, \\Deleted and unknown system flags are hidden', () => {
  assert.deepEqual(
    keywordsOf(new Set(['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '\\Recent', '\\Deleted', '\\Whatever', '$Forwarded', 'Work'])),
    ['$answered', '$draft', '$flagged', '$forwarded', '$seen', 'work']
  )
  assert.deepEqual(keywordsOf(undefined), [])
})

test('special-use attributes map to contract roles; INBOX is always inbox', () => {
  assert.equal(roleOf({ path: 'INBOX', specialUse: undefined }), 'inbox')
  assert.equal(roleOf({ path: 'Sent Items', specialUse: '\\Sent' }), 'sent')
  assert.equal(roleOf({ path: 'x', specialUse: '\\Junk' }), 'junk')
  assert.equal(roleOf({ path: 'x', specialUse: '\\All' }), 'all')
  assert.equal(roleOf({ path: 'x', specialUse: '\\Flagged' }), 'flagged')
  assert.equal(roleOf({ path: 'x', specialUse: '\\Important' }), null)
  assert.equal(roleOf({ path: 'Work', specialUse: undefined }), null)
})

test('BODYSTRUCTURE becomes a PartNode tree with section numbers', () => {
  const bs: MessageStructureObject = {
    type: 'multipart/mixed',
    childNodes: [
      { part: '1', type: 'text/plain', size: 10, encoding: '7bit', parameters: { charset: 'utf-8' } },
      {
        part: '2',
        type: 'application/pdf',
        size: 78_000,
        encoding: 'base64',
        disposition: 'attachment',
        dispositionParameters: { filename: 'report.pdf' },
        id: '<cid@x>',
      },
      { part: '3', type: 'image/png', size: 100, disposition: 'weird', parameters: { name: 'a.png' } },
    ],
  }
  const tree = partTreeFromBodystructure(bs)
  assert.equal(tree.partId, '')
  assert.equal(tree.children.length, 3)
  const [text, pdf, png] = tree.children
  assert.deepEqual(text, { partId: '1', type: 'text/plain', disposition: null, filename: null, contentId: null, size: 10, children: [] })
  assert.equal(pdf?.filename, 'report.pdf')
  assert.equal(pdf?.contentId, 'cid@x')
  assert.equal(pdf?.disposition, 'attachment')
  assert.ok(pdf !== undefined && pdf.size > 50_000 && pdf.size < 58_500)
  assert.equal(png?.disposition, 'attachment', 'unknown dispositions count as attachment')
  assert.equal(png?.filename, 'a.png')
  const single = partTreeFromBodystructure({ type: 'text/html', size: 5 })
  assert.equal(single.partId, '1')
})

test('failures map to contract codes', () => {
  const code = (err: unknown): string => toGatewayError(err).code
  assert.equal(code(Object.assign(new Error('x'), { authenticationFailed: true })), 'auth-failed')
  assert.equal(code(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'upstream-unavailable')
  assert.equal(code(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })), 'upstream-unavailable')
  assert.equal(code(Object.assign(new Error('x'), { code: 'GREETING_TIMEOUT' })), 'upstream-timeout')
  assert.equal(code(Object.assign(new Error('x'), { code: 'ETIMEOUT' })), 'upstream-timeout')
  assert.equal(code(Object.assign(new Error('x'), { serverResponseCode: 'NONEXISTENT' })), 'not-found')
  assert.equal(code(Object.assign(new Error('x'), { mailboxMissing: true })), 'not-found')
  const throttled = toGatewayError(Object.assign(new Error('x'), { code: 'ETHROTTLE', throttleReset: 2500 }))
  assert.equal(throttled.code, 'rate-limited')
  assert.equal(throttled.retryAfter, 3)
  assert.equal(code(Object.assign(new Error('x'), { serverResponseCode: 'THROTTLED' })), 'rate-limited')
  // a NO to LOGIN with a response code about the server, not the credentials
  for (const [response, expected] of [['UNAVAILABLE', 'upstream-unavailable'], ['SERVERBUG', 'upstream-unavailable'], ['INUSE', 'upstream-unavailable'], ['THROTTLED', 'rate-limited'], ['LIMIT', 'rate-limited'], ['AUTHENTICATIONFAILED', 'auth-failed']]) {
    assert.equal(code(Object.assign(new Error('x'), { authenticationFailed: true, serverResponseCode: response })), expected, response)
  }
  // a refused command keeps its connection; a dropped one does not
  const refusal = new UpstreamRefusal('the mail server refused the search')
  assert.deepEqual([toGatewayError(refusal).code, toGatewayError(refusal).message, isConnectionFatal(refusal)], ['upstream-unavailable', 'the mail server refused the search', false])
  assert.equal(isConnectionFatal(Object.assign(new Error('x'), { code: 'ECONNRESET' })), true)
  assert.equal(code(new PoolTimeoutError()), 'upstream-timeout')
  const own = new GatewayError('stale-id')
  assert.equal(toGatewayError(own), own)
  assert.equal(isConnectionDrop(Object.assign(new Error('x'), { code: 'NoConnection' })), true)
  assert.equal(isConnectionDrop(Object.assign(new Error('x'), { authenticationFailed: true })), false)
  assert.doesNotMatch(toGatewayError(Object.assign(new Error('server said secret'), { code: 'X' })).message, /secret/)
})

test('list positions round-trip and reject garbage', () => {
  assert.deepEqual(decodePosition(encodePosition('1700000000', 42)), { validity: '1700000000', uid: 42 })
  for (const bad of ['', '1:', 'a:1', '1:2:3', '99999999999:1']) {
    assert.throws(() => decodePosition(bad), (e: unknown) => e instanceof GatewayError && e.code === 'bad-request')
  }
})

test('list FETCH responses: an unsolicited flags-only update merges into the real one, and alone is not a complete summary', () => {
  const full = {
    seq: 1,
    uid: 7,
    flags: new Set(['\\Seen']),
    size: 120,
    internalDate: new Date('2024-10-01T10:00:00Z'),
    bodyStructure: { type: 'text/plain' } as MessageStructureObject,
    headers: Buffer.from('Subject: hi\r\n\r\n'),
  }
  const update = { seq: 1, uid: 7, flags: new Set(['\\Seen', '\\Flagged']) }
  for (const order of [[full, update], [update, full]]) {
    const merged = mergedByUid(order).get(7)!
    assert.equal(merged.size, 120)
    assert.ok(merged.headers?.equals(full.headers))
    assert.equal(complete(merged), true)
  }
  assert.deepEqual([...mergedByUid([full, update]).get(7)!.flags!], ['\\Seen', '\\Flagged'], 'the later flags win')
  assert.equal(complete(update), false, 'a flags-only response is never remembered as a summary')
})

test('a read that gets another client\'s flags-only FETCH next to the real one still reads the message', async () => {
  const raw = Buffer.from('Subject: the real one\r\nFrom: a@example.com\r\n\r\nbody\r\n')
  const real = { seq: 3, uid: 5, flags: new Set<string>(), size: raw.length, internalDate: new Date('2024-10-01T10:00:00Z'), source: raw }
  const update = { seq: 3, uid: 5, flags: new Set(['\\Seen']) }
  const stranger = { seq: 9, uid: 77, flags: new Set(['\\Flagged']) }
  for (const [rows, latest] of [[[real, update, stranger], ['$seen']], [[update, real], []]] as const) {
    let syncs = 0
    const session = {
      client: { fetchAll: async () => rows },
      cmd: async <T>(p: Promise<T>) => await p,
      inMailbox: async <T>(_p: string, fn: (v: string) => Promise<T>) => await fn('1'),
      sync: async () => { syncs++ },
    } as unknown as ImapSession
    const fetched = await fetchMessagesIn(session, 'INBOX', [{ mailbox: 'INBOX', validity: '1', key: '5' }])
    assert.ok(!isShort(fetched), 'no budget asked for, none short')
    const records = await recordsOf('INBOX', fetched)
    assert.deepEqual([...records.keys()], [5], 'only the asked UID')
    assert.equal(records.get(5)?.subject, 'the real one')
    assert.deepEqual(records.get(5)?.keywords, latest, 'the flags the server stated last')
    assert.equal(syncs, 0, 'not taken for a missing message')
  }
})

// Found by fuzzing the gateway's decoders and mappers (session 7).
test('keywords named like Object.prototype members stay keywords (they came out as {} and null)', () => {
  assert.deepEqual(keywordsOf(new Set(['\\Seen', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])),
    ['$seen', '__proto__', 'constructor', 'hasownproperty', 'tostring'])
})

test('an INTERNALDATE past year 9999 has no RFC 3339 form: receivedAt is null, not "+010000-…"', () => {
  assert.equal(utcIso(new Date(Date.UTC(10000, 0, 1))), null)
  assert.equal(utcIso(new Date(Date.UTC(9999, 11, 31, 23, 59, 59))), '9999-12-31T23:59:59Z')
  assert.equal(utcIso('not a date'), null)
})

test('a SELECT without a usable UIDVALIDITY is the server\'s fault (502) and releases the mailbox lock', async () => {
  for (const uidValidity of [undefined, 0n, 4294967296n]) {
    let released = 0
    const client = {
      mailbox: false as false | { path: string, uidValidity: bigint | undefined },
      usable: true,
      async getMailboxLock (path: string) {
        client.mailbox = { path, uidValidity }
        return { release: () => { released++ } }
      },
      async noop () {},
      close () {},
    }
    const session = createSession(client as unknown as ImapFlow, 1000)
    await assert.rejects(session.lockMailbox('INBOX'), (err: unknown) => err instanceof UpstreamRefusal && toGatewayError(err).code === 'upstream-unavailable', String(uidValidity))
    assert.equal(released, 1, `the lock is released (UIDVALIDITY ${String(uidValidity)}): the next request on this connection waited for it until its timeout`)
  }
})

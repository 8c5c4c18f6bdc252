import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MessageRecord } from '../../src/mail/backend.ts'
import { decodeMessageId } from '../../src/mail/ids.ts'
import { presentMessage, presentMessageOnce } from '../../src/mail/present.ts'
import { jsonBody } from '../../src/http/json-body.ts'
import { record } from './records.ts'

function message (uid: string, keywords: string[]): MessageRecord {
  return record({ mailbox: 'INBOX', validity: '7', key: uid }, keywords, {
    text: `text of ${uid} – ü`,
    attachments: [{ partId: '2', filename: 'a.pdf', contentType: 'application/pdf', size: 3, disposition: 'attachment', contentId: null }],
    hasAttachment: true,
  })
}

const ACCOUNT = 'a'.repeat(22)
const OTHER = 'b'.repeat(22)

describe('presentMessageOnce (resource memo per cached record)', () => {
  it('builds a record\'s resource once and hands out the same frozen object', () => {
    const r = message('5', ['$seen'])
    const first = presentMessageOnce(ACCOUNT, 'imap', r)
    const again = presentMessageOnce(ACCOUNT, 'imap', r)
    assert.equal(again.message, first.message)
    assert.equal(again.etag, first.etag)
    assert.ok(Object.isFrozen(first.message) && Object.isFrozen(first.message.attachments) && Object.isFrozen(first.message.attachments[0]))
    assert.deepEqual(first.message, presentMessage(ACCOUNT, 'imap', r))
    assert.throws(() => { (first.message as { subject: string | null }).subject = 'changed' })
  })

  it('a new record (keywords changed) gets a new resource and ETag', () => {
    const before = presentMessageOnce(ACCOUNT, 'imap', message('5', []))
    const after = presentMessageOnce(ACCOUNT, 'imap', message('5', ['$flagged']))
    assert.notEqual(after.message, before.message)
    assert.deepEqual(after.message.keywords, ['$flagged'])
    assert.notEqual(after.etag, before.etag)
  })

  it('never hands one account\'s resource (ids) to another', () => {
    const r = message('9', [])
    const mine = presentMessageOnce(ACCOUNT, 'imap', r)
    const theirs = presentMessageOnce(OTHER, 'imap', r)
    assert.notEqual(theirs.message.id, mine.message.id)
    assert.equal(decodeMessageId(OTHER, 'imap', theirs.message.id).key, '9')
    assert.throws(() => decodeMessageId(ACCOUNT, 'imap', theirs.message.id))
  })
})

describe('jsonBody (serialised once per frozen resource)', () => {
  it('serialises a frozen resource once and sends those bytes again', () => {
    const { message: resource } = presentMessageOnce(ACCOUNT, 'imap', message('11', []))
    const body = jsonBody(resource)
    assert.equal(jsonBody(resource), body)
    assert.deepEqual(JSON.parse(body.toString('utf8')), JSON.parse(JSON.stringify(resource)))
  })

  it('re-serialises an object that may still change', () => {
    const open = { a: 1 }
    const first = jsonBody(open)
    open.a = 2
    assert.equal(jsonBody(open).toString(), '{"a":2}')
    assert.equal(first.toString(), '{"a":1}')
  })
})

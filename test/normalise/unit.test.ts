import assert from 'node:assert/strict'
import { test } from 'node:test'
import { classifyParts, parseHeaderBlock, parseMessage } from '../../src/mail/normalise/index.ts'
import type { PartNode } from '../../src/mail/normalise/index.ts'
import { parseDate } from '../../src/mail/normalise/dates.ts'
import { partTreeFromBodystructure } from '../../src/backends/imap/bodystructure.ts'

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'))

let seq = 0
function leaf (type: string, disposition: PartNode['disposition'] = null, filename: string | null = null): PartNode {
  return { partId: `leaf${++seq}`, type, disposition, filename, contentId: null, size: 1, children: [] }
}
function multi (type: string, children: PartNode[]): PartNode {
  return { partId: `multi${++seq}`, type, disposition: null, filename: null, contentId: null, size: 0, children }
}

test('classifyParts: the RFC 8621 §4.1.4 example', () => {
  const A = leaf('text/plain', 'inline')
  const B = leaf('text/plain', 'inline')
  const C = leaf('image/jpeg', 'inline')
  const D = leaf('text/plain', 'inline')
  const E = leaf('text/html')
  const F = leaf('image/jpeg')
  const G = leaf('image/jpeg', 'attachment')
  const H = leaf('application/x-excel')
  const J = leaf('message/rfc822')
  const K = leaf('text/plain', 'inline')
  const root = multi('multipart/mixed', [
    A,
    multi('multipart/mixed', [
      multi('multipart/alternative', [
        multi('multipart/mixed', [B, C, D]),
        multi('multipart/related', [E, F]),
      ]),
      G, H, J,
    ]),
    K,
  ])
  const c = classifyParts(root)
  assert.deepEqual(c.textParts, [A, B, C, D, K])
  assert.deepEqual(c.htmlParts, [A, E, K])
  assert.deepEqual(c.attachments, [C, F, G, H, J])
  assert.equal(c.hasAttachment, true)
})

test('classifyParts: inline image in multipart/mixed is an attachment but not hasAttachment', () => {
  const text = leaf('text/plain')
  const img = leaf('image/png', 'inline', 'logo.png')
  const c = classifyParts(multi('multipart/mixed', [text, img]))
  assert.deepEqual(c.textParts, [text, img])
  assert.deepEqual(c.attachments, [img])
  assert.equal(c.hasAttachment, false)
})

test('classifyParts: html-only alternative is copied to text; attached message sets hasAttachment', () => {
  const html = leaf('text/html')
  const msg = leaf('message/rfc822', 'inline')
  const c = classifyParts(multi('multipart/mixed', [multi('multipart/alternative', [html]), msg]))
  assert.deepEqual(c.textParts, [html])
  assert.deepEqual(c.htmlParts, [html])
  assert.deepEqual(c.attachments, [msg])
  assert.equal(c.hasAttachment, true)
})

test('classifyParts: single-part message is its own body; a text part with a filename after the first is an attachment', () => {
  const only = leaf('text/plain')
  assert.deepEqual(classifyParts(only).textParts, [only])
  const body = leaf('text/plain')
  const csv = leaf('text/plain', null, 'data.csv')
  const c = classifyParts(multi('multipart/mixed', [body, csv]))
  assert.deepEqual(c.textParts, [body])
  assert.deepEqual(c.attachments, [csv])
  assert.equal(c.hasAttachment, false) // no disposition "attachment"
})

test('RFC 2231 continuations, charset and RFC 2047 names', async () => {
  const raw = crlf(`Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

body
--b
Content-Type: application/octet-stream; name="=?UTF-8?B?w6lnYWw=?=.bin"
Content-Disposition: attachment;
 filename*0*=UTF-8''%E6%97%A5%E6%9C%AC;
 filename*1*=%E8%AA%9E;
 filename*2=".txt"
Content-ID: < part1@example.com >
Content-Transfer-Encoding: base64

aGVsbG8=
--b
Content-Type: application/octet-stream; name="=?UTF-8?B?w6lnYWw=?=.bin"

x
--b--
`)
  const m = await parseMessage(raw)
  assert.equal(m.text, 'body')
  assert.deepEqual(m.attachments.map(a => [a.partId, a.filename, a.contentId, a.size, a.disposition]), [
    ['2', '日本語.txt', 'part1@example.com', 5, 'attachment'],
    ['3', 'égal.bin', null, 1, null],
  ])
  assert.equal(m.hasAttachment, true)
})

test('sentAt keeps the offset; receivedFromHeaders is the topmost Received: date in UTC', () => {
  const f = parseHeaderBlock(crlf(`Received: from a by b; Sat, 24 Aug 2024 16:30:07 +0200 (CEST)
Received: from c by d; Sat, 24 Aug 2024 16:29:00 +0200
Date: Sat, 24 Aug 2024 16:30:00 +0200
Subject: x

body`))
  assert.equal(f.sentAt, '2024-08-24T16:30:00+02:00')
  assert.equal(f.receivedFromHeaders, '2024-08-24T14:30:07Z')
  const noReceived = parseHeaderBlock(crlf('Date: Fri, 3 Nov 2017 12:00:00 -0800\n\n'))
  assert.equal(noReceived.sentAt, '2017-11-03T12:00:00-08:00')
  assert.equal(noReceived.receivedFromHeaders, '2017-11-03T20:00:00Z')
  const none = parseHeaderBlock(crlf('Date: yesterday\nReceived: from x; garbage\n\n'))
  assert.equal(none.sentAt, null)
  assert.equal(none.receivedFromHeaders, null)
})

test('parseDate: obsolete zones, 2-digit years, impossible dates', () => {
  assert.equal(parseDate('Sun, 7 May 95 16:21:03 GMT')?.local, '1995-05-07T16:21:03Z')
  assert.equal(parseDate('Thu, 8 Mar 2005 17:40:36 EDT')?.local, '2005-03-08T17:40:36-04:00')
  assert.equal(parseDate('Tue, 19 Sep 1995 13:30:00 (EDT) -0400')?.utc, '1995-09-19T17:30:00Z')
  assert.equal(parseDate('1 Jan 05 00:00 +0000')?.local, '2005-01-01T00:00:00Z')
  assert.equal(parseDate('31 Feb 2020 10:00 +0000'), null)
  assert.equal(parseDate('Pn, 29 paX 2007 21:13:00 +0100'), null)
  assert.equal(parseDate(''), null)
})

test('header fields: ids without <>, decoded subject, addresses, raw header values', () => {
  const f = parseHeaderBlock(crlf(`From mbox-line Sat Aug 24 2024
Message-ID: <abc@example.com>
In-Reply-To: <p1@x>
References: <p0@x>
 <p1@x>
Subject: =?UTF-8?Q?Caf=C3=A9?=
 =?UTF-8?Q?_ok?= folded
To: undisclosed-recipients:;
Cc: "Doe, Jane" <jane@example.com>, Friends: a@x, =?ISO-8859-1?Q?Andr=E9?= <b@x>;, bare
From: Big Bug bb@bug.com

body`))
  assert.equal(f.messageId, 'abc@example.com')
  assert.deepEqual(f.inReplyTo, ['p1@x'])
  assert.deepEqual(f.references, ['p0@x', 'p1@x'])
  assert.equal(f.subject, 'Café ok folded')
  assert.deepEqual(f.to, [])
  assert.deepEqual(f.cc, [
    { name: 'Doe, Jane', email: 'jane@example.com' },
    { name: null, email: 'a@x' },
    { name: 'André', email: 'b@x' },
    { name: null, email: 'bare' },
  ])
  assert.deepEqual(f.from, [{ name: 'Big Bug', email: 'bb@bug.com' }])
  assert.deepEqual(f.headers[2], { name: 'References', value: '<p0@x> <p1@x>' })
  assert.equal(f.headers.length, 7) // the mbox "From " line is not a header
})

test('parseHeaderBlock equals the fields of the full parse', async () => {
  const raw = crlf(`Date: Sat, 24 Aug 2024 16:30:00 +0200
From: A <a@x>
Subject: same
Content-Type: text/plain; charset=utf-8

hello`)
  const full = await parseMessage(raw)
  const head = parseHeaderBlock(raw)
  for (const [k, v] of Object.entries(head)) assert.deepEqual((full as unknown as Record<string, unknown>)[k], v, k)
})

test('an unrecognised Content-Disposition type reads as attachment (RFC 2183 §2.8), in the full parse as in BODYSTRUCTURE', async () => {
  const raw = crlf([
    'From: a@example.com', 'Subject: odd dispositions', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"', '', '--b',
    'Content-Type: text/plain', '', 'hello', '--b',
    'Content-Type: application/pdf', 'Content-Disposition: =?utf-8?q?invalid?=', '', 'pdf', '--b',
    'Content-Type: application/zip', 'Content-Disposition: filename="x.zip"', '', 'zip', '--b',
    'Content-Type: image/png', 'Content-Disposition: INLINE; filename=a.png', '', 'png', '--b--', '',
  ].join('\n'))
  const m = await parseMessage(raw)
  assert.deepEqual(m.attachments.map(a => [a.contentType, a.disposition]), [
    ['application/pdf', 'attachment'], ['application/zip', 'attachment'], ['image/png', 'inline'],
  ])
  assert.equal(m.hasAttachment, true)
  const bodystructure = partTreeFromBodystructure({
    type: 'multipart/mixed',
    childNodes: [
      { part: '1', type: 'text/plain', size: 5 },
      { part: '2', type: 'application/pdf', size: 3, disposition: 'invalid' },
      { part: '3', type: 'application/zip', size: 3, disposition: 'filename="x.zip"' },
      { part: '4', type: 'image/png', size: 3, disposition: 'inline' },
    ],
  })
  assert.deepEqual(bodystructure.children.map(p => p.disposition), [null, 'attachment', 'attachment', 'inline'])
  assert.equal(classifyParts(bodystructure).hasAttachment, m.hasAttachment)
})

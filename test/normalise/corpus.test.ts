import assert from 'node:assert/strict'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { classifyParts, extractPart, parseHeaderBlock, parseMessage, parseStructure } from '../../src/mail/normalise/index.ts'
import type { PartNode } from '../../src/mail/normalise/index.ts'
import { CORPUS_DIR, corpusFiles } from './corpus-files.ts'

const files = corpusFiles()

async function drain (stream: NodeJS.ReadableStream): Promise<number> {
  let n = 0
  for await (const chunk of stream) n += (chunk as Buffer).length
  return n
}

test('the corpus holds all 196 message files', () => {
  assert.equal(files.length, 196)
})

for (const file of files) {
  test(`corpus: ${file}`, async () => {
    const path = join(CORPUS_DIR, file)
    const msg = await parseMessage(createReadStream(path))
    assert.equal(msg.size, statSync(path).size, 'size = raw octets')
    assert.ok(msg.preview.length <= 256 * 2 && Array.from(msg.preview).length <= 256)

    // list summaries (IMAP BODY[HEADER], POP3 TOP n 0) give the same fields as the full parse
    const head = parseHeaderBlock(readFileSync(path))
    for (const [k, v] of Object.entries(head)) assert.deepEqual((msg as unknown as Record<string, unknown>)[k], v, k)

    // no attachment is a text/plain or text/html body part
    const { root } = await parseStructure(createReadStream(path))
    assert.ok(root)
    const c = classifyParts(root)
    const body = new Set([...c.textParts, ...c.htmlParts].filter(p => p.type === 'text/plain' || p.type === 'text/html'))
    for (const a of c.attachments) assert.ok(!body.has(a), `attachment ${a.partId} is also a body part`)
    assert.deepEqual(msg.attachments.map(a => a.partId), c.attachments.map((a: PartNode) => a.partId))

    // every attachment streams exactly its reported size, from a fresh stream and from a Buffer
    for (const a of msg.attachments) {
      const part = await extractPart(createReadStream(path), a.partId)
      assert.equal(part.contentType, a.contentType)
      assert.equal(part.filename, a.filename)
      assert.equal(await drain(part.stream), a.size, `bytes streamed for ${a.partId}`)
    }
    const first = msg.attachments[0]
    if (first) {
      const part = await extractPart(readFileSync(path), first.partId)
      assert.equal(await drain(part.stream), first.size)
    }
  })
}

test('extractPart rejects with not-found for a missing part', async () => {
  const path = join(CORPUS_DIR, 'enmime/attachment.raw')
  await assert.rejects(extractPart(createReadStream(path), '9.9'), { name: 'GatewayError', code: 'not-found' })
  // a multipart has a section number but no content of its own to download
  const nested = join(CORPUS_DIR, 'stalwart-mail-parser/007.eml')
  await assert.rejects(extractPart(createReadStream(nested), '2.1'), { code: 'not-found' })
})

test('large and hostile messages do not block the event loop for long', async () => {
  await parseMessage(readFileSync(join(CORPUS_DIR, 'mikel-mail/basic_email.eml'))) // warm up (lazy module loads)
  for (const file of ['mailparser/large_text.eml', 'mailparser/htmllargecallstack.eml', 'mailparser/outofmemory.eml', 'mimekit/stack-overflow.txt']) {
    let last = performance.now()
    let worst = 0
    const timer = setInterval(() => {
      const now = performance.now()
      worst = Math.max(worst, now - last)
      last = now
    }, 1)
    const msg = await parseMessage(createReadStream(join(CORPUS_DIR, file)))
    clearInterval(timer)
    assert.ok(msg.size > 0)
    assert.ok(worst < 200, `${file}: event loop blocked for ${worst.toFixed(0)} ms`)
  }
})

/**
 * The normaliser's output must not depend on how the bytes arrive: the whole
 * message in one chunk (a cached raw source), tiny chunks, and socket-sized
 * chunks give the same message, and every attachment streams its declared size.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { it } from 'node:test'
import { extractPart, parseMessage } from '../../src/mail/normalise/index.ts'
import { readCorpus } from '../e2e/direct.ts'

const split = (raw: Buffer, n: number): Readable => {
  const chunks: Buffer[] = []
  for (let i = 0; i < raw.length; i += n) chunks.push(raw.subarray(i, i + n))
  return Readable.from(chunks)
}

it('parse and extraction are independent of chunking, over the whole corpus', async () => {
  const problems: string[] = []
  for (const { file, raw } of readCorpus()) {
    const name = file.split('corpus/')[1]
    const whole = await parseMessage(split(raw, Math.max(1, raw.length)))
    for (const n of [7, 4096]) {
      const parsed = await parseMessage(split(raw, n))
      if (JSON.stringify(parsed) !== JSON.stringify(whole)) problems.push(`${name}: parse differs with ${n}-byte chunks`)
    }
    for (const a of whole.attachments) {
      for (const n of [Math.max(1, raw.length), 13]) {
        let length = 0
        for await (const c of (await extractPart(split(raw, n), a.partId)).stream) length += (c as Buffer).length
        if (length !== a.size) problems.push(`${name} part ${a.partId}: ${length} bytes streamed, ${a.size} declared (${n}-byte chunks)`)
      }
    }
  }
  assert.deepEqual(problems, [])
})

import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { describe, it } from 'node:test'
import { withoutAddedCrlf } from '../../src/backends/pop3/added-crlf.ts'

const chunks = (s: string, size: number): Readable => {
  const parts: Buffer[] = []
  for (let i = 0; i < s.length; i += size) parts.push(Buffer.from(s.slice(i, i + size), 'latin1'))
  return Readable.from(parts)
}

describe('server-added final CRLF', () => {
  it('drops it only when LIST says the message is exactly two octets shorter', async () => {
    for (const size of [1, 2, 3, 64]) {
      assert.equal(await text(withoutAddedCrlf(chunks('Subject: x\r\n\r\nno final break\r\n', size), 28)), 'Subject: x\r\n\r\nno final break', `chunk ${size}`)
      assert.equal(await text(withoutAddedCrlf(chunks('Subject: x\r\n\r\nfinal break\r\n', size), 27)), 'Subject: x\r\n\r\nfinal break\r\n', `chunk ${size}`)
    }
  })

  it('passes everything through when the size does not fit or is unknown', async () => {
    assert.equal(await text(withoutAddedCrlf(chunks('abc\r\n', 2), 100)), 'abc\r\n')
    assert.equal(await text(withoutAddedCrlf(chunks('abc\r\n', 2), undefined)), 'abc\r\n')
    assert.equal(await text(withoutAddedCrlf(chunks('a', 1), 0)), 'a')
  })

  it('destroying the result destroys the source', async () => {
    const source = new Readable({ read () {} })
    const out = withoutAddedCrlf(source, 10)
    out.destroy()
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(source.destroyed, true)
  })
})

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { promisify } from 'node:util'
import mailsplit from 'mailsplit'
import { extractPart, parseMessage } from '../../src/mail/normalise/index.ts'
import type { ParsedMessage } from '../../src/mail/backend.ts'
import type { Address } from '../../src/mail/types.ts'

const run = promisify(execFile)

test('deep nesting: structure stops at the depth limit, nothing throws, size is exact', async () => {
  let raw = 'Subject: deep\r\n'
  const depth = 200
  for (let i = 0; i < depth; i++) raw += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`
  raw += 'Content-Type: text/plain\r\n\r\nbottom\r\n'
  for (let i = depth - 1; i >= 0; i--) raw += `--b${i}--\r\n`
  const buf = Buffer.from(raw)
  const m = await parseMessage(buf)
  assert.equal(m.size, buf.length)
  assert.equal(m.subject, 'deep')
  assert.equal(m.attachments.length, 1)
  assert.equal(m.attachments[0]?.contentType, 'application/octet-stream')
  assert.equal(m.attachments[0]?.partId.split('.').length, 50)
})

test('more parts than the limit: the parts before it are kept, the rest is counted', async () => {
  let raw = 'Content-Type: multipart/mixed; boundary=x\r\n\r\n'
  for (let i = 0; i < 1500; i++) raw += `--x\r\nContent-Type: application/octet-stream\r\n\r\n${i}\r\n`
  raw += '--x--\r\n'
  const buf = Buffer.from(raw)
  const m = await parseMessage(Readable.from([buf.subarray(0, 5000), buf.subarray(5000)]))
  assert.equal(m.size, buf.length)
  assert.ok(m.attachments.length >= 900 && m.attachments.length <= 1000, String(m.attachments.length))
})

test('a multi-megabyte line and a huge header do not hang or throw', async () => {
  const line = Buffer.alloc(5 * 1024 * 1024, 0x61)
  const raw = Buffer.concat([Buffer.from('Subject: long\r\nX-Big: '), Buffer.alloc(3 * 1024 * 1024, 0x62), Buffer.from('\r\n\r\n'), line])
  const started = Date.now()
  const m = await parseMessage(Readable.from((function * () {
    for (let i = 0; i < raw.length; i += 65536) yield raw.subarray(i, i + 65536)
  })()))
  assert.equal(m.size, raw.length)
  assert.ok(Date.now() - started < 10_000)
})

test('body text is capped on a character boundary', async () => {
  const body = 'é'.repeat(1000) // 2000 UTF-8 octets
  const m = await parseMessage(Buffer.from(`Content-Type: text/plain; charset=utf-8\r\n\r\n${body}`), { maxBodyBytes: 1001 })
  assert.equal(m.text, 'é'.repeat(500))
  const html = await parseMessage(Buffer.from(`Content-Type: text/html; charset=utf-8\r\n\r\n<p>${body}</p>`), { maxBodyBytes: 100 })
  assert.ok(html.html !== null && Buffer.byteLength(html.html) <= 100 && !html.html.includes('\uFFFD'))
})

test('a body cut by the cap says so; one that fits does not', async () => {
  const mixed = (body: string): Buffer => Buffer.from('Content-Type: multipart/alternative; boundary=b\r\n\r\n' +
    `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>\r\n--b--\r\n`)
  const cut = await parseMessage(mixed('x'.repeat(5000)), { maxBodyBytes: 1000 })
  assert.equal(cut.text, 'x'.repeat(1000))
  assert.equal(cut.textTruncated, true)
  assert.equal(cut.htmlTruncated, undefined)
  // exactly at the cap: whole, not cut
  const whole = await parseMessage(mixed('x'.repeat(1000)), { maxBodyBytes: 1000 })
  assert.equal(whole.text, 'x'.repeat(1000))
  assert.equal(whole.textTruncated, undefined)
  // several parts joined past the cap
  const parts = await parseMessage(Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\n' +
    `--b\r\nContent-Type: text/plain\r\n\r\n${'a'.repeat(600)}\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\n${'b'.repeat(600)}\r\n--b--\r\n`), { maxBodyBytes: 1000 })
  assert.equal(parts.textTruncated, true)
})

test('bogus charsets and encodings fall back without throwing', async () => {
  const m = await parseMessage(Buffer.from('Content-Type: text/plain; charset="fakescii"\r\nContent-Transfer-Encoding: x-garbage\r\n\r\ncaf\xe9', 'latin1'))
  assert.equal(m.text, 'café')
  const utf7 = await parseMessage(Buffer.from('Subject: =?utf-7?Q?+ADw-script+AD4-?=\r\n\r\n'))
  assert.ok(!utf7.subject?.includes('<script>'))
})

test('an input stream error rejects parseMessage', async () => {
  const input = new Readable({ read () {} })
  input.push('Subject: x\r\n\r\n')
  setImmediate(() => input.destroy(new Error('connection reset')))
  await assert.rejects(parseMessage(input), /connection reset/)
})

test('extractPart applies backpressure: a stalled reader stops the input being read', async () => {
  const payload = Buffer.alloc(4 * 1024 * 1024, 0x41).toString('base64').replace(/(.{76})/g, '$1\r\n')
  const raw = Buffer.from(`Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nhi\r\n--z\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${payload}\r\n--z--\r\n`)
  let pulled = 0
  const input = Readable.from((function * () {
    for (let i = 0; i < raw.length; i += 16384) { pulled += 16384; yield raw.subarray(i, i + 16384) }
  })())
  const part = await extractPart(input, '2')
  await new Promise(resolve => setTimeout(resolve, 300))
  assert.ok(pulled < raw.length / 2, `read ${pulled} of ${raw.length} octets without a consumer`)
  let n = 0
  for await (const chunk of part.stream) n += (chunk as Buffer).length
  assert.equal(n, 4 * 1024 * 1024)
})

/**
 * `fn` of `module` applied to the value of the JavaScript expression `arg`, in a
 * child process killed after `ms`: a synchronous hang fails the test instead of
 * stalling it (no timer fires while the test's own thread is busy).
 */
/**
 * Runs `fn(arg)` from `module` in a child process and checks that the call took
 * less than `ms` of the child's CPU time (user + system). CPU time, not wall
 * time: a loaded machine delays the child but does not make it compute more, so
 * the bound still tells linear (well under a second) from quadratic (tens of
 * seconds) without failing on a busy runner. The wall-clock kill is a safety net.
 */
async function inChild<T> (module: URL, fn: string, arg: string, ms: number): Promise<T> {
  const script = `const m = await import(${JSON.stringify(module.href)}); const a = ${arg}; const c = process.cpuUsage(); ` +
    `const r = await m[${JSON.stringify(fn)}](a); const u = process.cpuUsage(c); ` +
    'process.stdout.write(JSON.stringify({ r, cpuMs: (u.user + u.system) / 1000 }))'
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: ms * 6 + 60_000, maxBuffer: 64 * 1024 * 1024 })
  const { r, cpuMs } = JSON.parse(stdout) as { r: T, cpuMs: number }
  assert.ok(cpuMs < ms, `${fn} took ${Math.round(cpuMs)} ms of CPU (bound ${ms} ms)`)
  return r
}

test('an address header of 200 000 words parses in linear time (each word rescanned the mailbox before)', async () => {
  // about 1 MiB, what a header block may hold; the quadratic scan took about 30 s here
  const header = '[\'"x" <x@y.z>,\', ...Array.from({ length: 200000 }, (_, i) => \'w\' + (i % 10))].join(\'\\r\\n\\t\')'
  const to = await inChild<Address[]>(new URL('../../src/mail/normalise/addresses.ts', import.meta.url), 'parseAddresses', header, 10_000)
  assert.equal(to.length, 2)
  assert.deepEqual(to[0], { name: 'x', email: 'x@y.z' })
  assert.equal(to[1]?.email.split(' ').length, 200_000)
})

test('long runs in headers and bodies parse in linear time (five trims were quadratic regular expressions)', async () => {
  const parse = async (raw: string): Promise<ParsedMessage> =>
    await inChild<ParsedMessage>(new URL('../../src/mail/normalise/index.ts', import.meta.url), 'parseMessage', `Buffer.from(${raw}, 'latin1')`, 10_000)
  const n = 500_000
  // 500 000 carriage returns inside a header (not line ends): the header splitter's trailing-CRLF trim
  const crs = await parse(`'X-A: a' + '\\r'.repeat(${n}) + 'b\\r\\nSubject: s\\r\\n\\r\\nbody\\r\\n'`)
  assert.equal(crs.subject, 's')
  // 500 000 blanks inside a value: the unfolding of the field
  const blanks = await parse(`'Subject: a' + ' '.repeat(${n}) + 'b\\r\\n\\r\\nbody\\r\\n'`)
  assert.equal(blanks.subject, `a${' '.repeat(n)}b`)
  // a Content-Transfer-Encoding of "base64" and a long tail: the encoding's trims
  for (const tail of ["';'", "'('"]) {
    const cte = await parse(`'Content-Transfer-Encoding: base64' + ${tail}.repeat(${n}) + 'x\\r\\n\\r\\naGk=\\r\\n'`)
    assert.equal(cte.text, 'aGk=\n', `${tail}: not base64, so the body stays as it is`)
  }
  // a body over the 2 MiB cap whose U+FFFD run stops before the cut: the trim of a cut character
  const body = await parse('\'Content-Type: text/plain; charset=utf-8\\r\\n\\r\\n\' + Buffer.from(\'\\uFFFD\'.repeat(600000) + \'b\' + \'x\'.repeat(400000)).toString(\'latin1\')')
  assert.ok((body.text ?? '').startsWith('\uFFFD'), 'the run is kept')
  assert.ok((body.text ?? '').includes('bx'), 'and what follows it, up to the cap')
})

// Found by fuzzing the normaliser with mutated corpus messages (session 7).
test('whitespace beyond space and tab in an address header ends a word: it looped, allocating, until out of memory', async () => {
  const addresses = new URL('../../src/mail/normalise/addresses.ts', import.meta.url)
  for (const space of ['\\u00a0', '\\u3000', '\\ufeff', '\\v', '\\f']) {
    const to = await inChild<Address[]>(addresses, 'parseAddresses', `'John${space}Doe <j@x.example>, x${space}y@z.example'`, 10_000)
    assert.deepEqual(to, [{ name: 'John Doe', email: 'j@x.example' }, { name: 'x', email: 'y@z.example' }], JSON.stringify(space))
  }
})

test('a "__proto__" parameter parses as a parameter (mailsplit\'s libmime threw an uncaught TypeError)', async () => {
  const parse = async (raw: string): Promise<ParsedMessage> =>
    await inChild<ParsedMessage>(new URL('../../src/mail/normalise/index.ts', import.meta.url), 'parseMessage', `Buffer.from(${JSON.stringify(raw)})`, 10_000)
  const m = await parse('Subject: p\r\nContent-Type: text/plain; __proto__*0=x; charset=utf-8\r\n\r\nhi\r\n')
  assert.equal(m.subject, 'p')
  assert.equal(m.text, 'hi\n')
  const mixed = await parse('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf; __proto__*0=x\r\n' +
    'Content-Disposition: attachment; filename=a.pdf; __proto__*1=y\r\n\r\nAAAA\r\n--b--\r\n')
  assert.equal(mixed.attachments.length, 1)
  assert.equal(mixed.attachments[0]?.filename, 'a.pdf')
})

test('a long Content-Type or Content-Disposition value without its ";" parses in linear time (a regular expression was quadratic)', async () => {
  const parse = async (raw: string): Promise<ParsedMessage> =>
    await inChild<ParsedMessage>(new URL('../../src/mail/normalise/index.ts', import.meta.url), 'parseMessage', `Buffer.from(${raw})`, 10_000)
  // 300 000 octets: the quadratic scan took about two minutes here, and 13 s at 100 000
  const word = "'a'.repeat(300000)"
  const type = await parse(`'Content-Type: text/plain ' + ${word} + ' charset=utf-8\\r\\n\\r\\nhi\\r\\n'`)
  assert.equal(type.text, 'hi\n')
  const disposition = await parse(`'Content-Type: multipart/mixed; boundary=b\\r\\n\\r\\n--b\\r\\nContent-Type: application/pdf\\r\\n' +
    'Content-Disposition: attachment ' + ${word} + ' filename=a.pdf\\r\\n\\r\\nAAAA\\r\\n--b--\\r\\n'`)
  assert.equal(disposition.attachments[0]?.filename, 'a.pdf')
})

test('a long line arriving in tiny pieces parses in linear time (the unfinished line was joined and rescanned per piece)', async () => {
  // 3 MiB without a line break, in 16-octet pieces: about 30 s before, under a second now
  const stream = `(await import('node:stream')).Readable.from((function * () {
    yield Buffer.from('Subject: pieces\\r\\n\\r\\n')
    const piece = Buffer.alloc(16, 0x61)
    for (let i = 0; i < 3 * 65536; i++) yield piece
    yield Buffer.from('\\r\\nend\\r\\n')
  })(), { objectMode: false })`
  const m = await inChild<ParsedMessage>(new URL('../../src/mail/normalise/index.ts', import.meta.url), 'parseMessage', stream, 20_000)
  assert.equal(m.subject, 'pieces')
  assert.equal(m.size, 'Subject: pieces\r\n\r\n'.length + 3 * 1024 * 1024 + '\r\nend\r\n'.length)
  assert.ok(m.text?.startsWith('a'.repeat(1024 * 1024)), 'the line, up to the body cap')
})

test('a throw inside mailsplit ends the structure there, as a splitter error does, instead of escaping as an uncaught exception', async (t) => {
  const proto = mailsplit.Splitter.prototype as unknown as { processLine: (line: Buffer | false, final: boolean, next: unknown) => void }
  const original = proto.processLine
  t.after(() => { proto.processLine = original })
  proto.processLine = function (this: unknown, line, final, next) {
    if (final || (line !== false && line.includes('BOOM'))) throw new TypeError('thrown by mailsplit')
    original.call(this, line, final, next)
  }
  const mid = [Buffer.from('Subject: a\r\n\r\nfirst\r\nBO'), Buffer.from('OM\r\nmore\r\n')]
  const m = await parseMessage(Readable.from(mid))
  assert.equal(m.subject, 'a')
  assert.equal(m.size, Buffer.concat(mid).length, 'the rest of the input is still read and counted')
  assert.equal(m.text, 'first\n', 'the body up to the line that threw')
  const last = Buffer.from('Subject: b\r\n\r\nno line break at the end')
  const atEnd = await parseMessage(last)
  assert.equal(atEnd.size, last.length, 'a throw in the last line, at the end of the input')
})

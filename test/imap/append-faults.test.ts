// APPEND faults a real server will not produce on demand, from a scripted loopback fake:
// the connection dropped mid-literal and right after it, OVERQUOTA, and a server without
// UIDPLUS. The fake records the literal it received, byte for byte.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { Readable } from 'node:stream'
import { GatewayError } from '../../src/mail/errors.ts'
import { accountIdOf } from '../../src/mail/ids.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { makeBackend } from './helpers.ts'

type Mode = 'drop-mid-literal' | 'drop-after-literal' | 'overquota' | 'no-uidplus' | 'uidplus'

const sockets = new Set<Socket>()
const servers: Server[] = []

interface Fake { port: number, literals: Buffer[], appendLines: string[] }

async function fakeServer (mode: Mode): Promise<Fake> {
  const fake: Fake = { port: 0, literals: [], appendLines: [] }
  const caps = mode === 'no-uidplus' ? 'IMAP4rev1 AUTH=PLAIN' : 'IMAP4rev1 AUTH=PLAIN UIDPLUS'
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.write(`* OK [CAPABILITY ${caps}] fake ready\r\n`)
    let buffer = Buffer.alloc(0)
    let literal: { tag: string, size: number } | null = null
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data])
      for (;;) {
        if (literal !== null) {
          if (mode === 'drop-mid-literal' && buffer.length >= Math.min(1000, literal.size)) { socket.destroy(); return }
          if (buffer.length < literal.size + 2) return
          fake.literals.push(buffer.subarray(0, literal.size))
          buffer = buffer.subarray(literal.size + 2)
          const tag = literal.tag
          literal = null
          if (mode === 'drop-after-literal') { socket.destroy(); return }
          socket.write(mode === 'uidplus' ? `${tag} OK [APPENDUID 7 42] Append completed\r\n` : `${tag} OK Append completed\r\n`)
          continue
        }
        const nl = buffer.indexOf('\r\n')
        if (nl < 0) return
        const line = buffer.subarray(0, nl).toString('latin1')
        buffer = buffer.subarray(nl + 2)
        const [tag, command = ''] = line.split(' ')
        const verb = command.toUpperCase()
        if (verb === 'APPEND') {
          fake.appendLines.push(line)
          if (mode === 'overquota') { socket.write(`${tag} NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n`); continue }
          const m = /\{(\d+)\}$/.exec(line)
          literal = { tag: tag!, size: Number(m![1]) }
          socket.write('+ OK\r\n')
          continue
        }
        if (verb === 'LIST' && line.endsWith('"" ""')) socket.write('* LIST (\\Noselect) "/" ""\r\n')
        if (verb === 'CAPABILITY') socket.write(`* CAPABILITY ${caps}\r\n`)
        if (verb === 'NAMESPACE') socket.write('* NAMESPACE (("" "/")) NIL NIL\r\n')
        if (verb === 'LOGOUT') socket.write('* BYE bye\r\n')
        socket.write(`${tag} OK done\r\n`)
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  fake.port = address.port
  return fake
}

const { backend } = makeBackend({ timeoutMs: 2000 })
after(async () => {
  await backend.close()
  for (const s of sockets) s.destroy()
  await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))))
})

async function appendTo (mode: Mode, raw: Buffer, chunk = 4096): Promise<{ fake: Fake, result: Promise<unknown> }> {
  const fake = await fakeServer(mode)
  const settings: ConnectionSettings = { protocol: 'imap', host: 'localhost', port: fake.port, security: 'none', username: 'u', password: 'p' }
  await backend.login(settings)
  const ctx = { accountId: accountIdOf(settings), settings }
  const parts: Buffer[] = []
  for (let i = 0; i < raw.length; i += chunk) parts.push(raw.subarray(i, i + chunk))
  const result = backend.writers!.appender!.append(ctx, 'Archiv Größe', { source: Readable.from(parts), size: raw.length, keywords: ['$seen', 'custom'], receivedAt: '2024-03-01T10:20:30.000Z' })
  return { fake, result }
}

const raw = Buffer.from(`From: a@example.com\r\nSubject: s\r\n\r\n${'x'.repeat(50_000)}\r\n`)
const isCode = (code: string) => (err: unknown): boolean => err instanceof GatewayError && err.code === code

test('the literal carries the message byte for byte, flags, date and the name in modified UTF-7; APPENDUID gives the key', async () => {
  const { fake, result } = await appendTo('uidplus', raw)
  assert.deepEqual(await result, { key: { mailbox: 'Archiv Größe', validity: '7', key: '42' } })
  assert.deepEqual(fake.literals, [raw])
  assert.equal(fake.appendLines[0]!.replace(/^\S+ /, ''), `APPEND "Archiv Gr&APYA3w-e" (\\Seen custom) "01-Mar-2024 10:20:30 +0000" {${raw.length}}`)
})

test('without UIDPLUS the message is appended and its key is null (the server did not say)', async () => {
  const { fake, result } = await appendTo('no-uidplus', raw)
  assert.deepEqual(await result, { key: null })
  assert.deepEqual(fake.literals, [raw])
})

test('OVERQUOTA before the literal → over-quota, and no byte of the message was sent', async () => {
  const { fake, result } = await appendTo('overquota', raw)
  await assert.rejects(result, isCode('over-quota'))
  assert.deepEqual(fake.literals, [])
})

for (const mode of ['drop-mid-literal', 'drop-after-literal'] as const) {
  test(`the connection dropped ${mode === 'drop-mid-literal' ? 'mid-literal' : 'after the literal, before the answer'} → upstream-unavailable, not retried`, async () => {
    const { fake, result } = await appendTo(mode, raw)
    const started = Date.now()
    await assert.rejects(result, isCode('upstream-unavailable'))
    assert.ok(Date.now() - started < 10_000, 'does not hang')
    assert.equal(fake.appendLines.length, 1, 'one APPEND only: a write is never repeated')
    assert.equal(fake.literals.length, mode === 'drop-mid-literal' ? 0 : 1)
  })
}

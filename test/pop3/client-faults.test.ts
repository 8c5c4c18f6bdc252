/**
 * Faults a real server will not produce on demand: response codes, stalls,
 * drops mid-RETR, hostile lines, and one-shot logins.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { connectPop3 } from '../../src/backends/pop3/client/index.ts'
import { MaildropSession } from '../../src/backends/pop3/session.ts'
import { delay, startFakeServer } from './fake-server.ts'
import { clientOptions, readAll, rejectsWith } from './helpers.ts'

const raw = Buffer.from('Subject: hi\r\n\r\n' + 'x'.repeat(5000) + '\r\n')

test('-ERR [IN-USE] on login → mailbox-locked', async (t) => {
  const server = await startFakeServer({ lock: true, messages: [{ uid: 'a', raw }] })
  t.after(() => server.close())
  const first = await connectPop3(clientOptions(server.port))
  const err = await rejectsWith(connectPop3(clientOptions(server.port)), 'mailbox-locked')
  assert.equal(err.status, 409)
  await first.quit()
  const again = await connectPop3(clientOptions(server.port))
  await again.quit()
})

test('-ERR [LOGIN-DELAY] → rate-limited with Retry-After from CAPA', async (t) => {
  const server = await startFakeServer({
    capa: ['USER', 'UIDL', 'TOP', 'LOGIN-DELAY 900'],
    onCommand: (cmd, _a, s) => {
      if (cmd !== 'PASS') return false
      s.write('-ERR [LOGIN-DELAY] wait a bit\r\n')
      return true
    },
  })
  t.after(() => server.close())
  const err = await rejectsWith(connectPop3(clientOptions(server.port)), 'rate-limited')
  assert.equal(err.status, 429)
  assert.equal(err.retryAfter, 900)
})

test('wrong password → auth-failed after exactly one attempt; no credential in the error', async (t) => {
  const server = await startFakeServer()
  t.after(() => server.close())
  const err = await rejectsWith(connectPop3(clientOptions(server.port, { password: 'hunter2-wrong' })), 'auth-failed')
  assert.equal(err.status, 401)
  assert.equal(server.logins, 1)
  assert.ok(!err.message.includes('hunter2'))
  // A bare -ERR to PASS (no response code) also means rejected credentials.
  const bare = await startFakeServer({ capa: ['USER'], onCommand: (c, _a, s) => c === 'PASS' && (s.write('-ERR no\r\n'), true) })
  t.after(() => bare.close())
  await rejectsWith(connectPop3(clientOptions(bare.port)), 'auth-failed')
})

test('USER/PASS, AUTH PLAIN and the XOAUTH2 error challenge', async (t) => {
  const tokens: string[] = []
  const server = await startFakeServer({
    capa: ['USER', 'SASL PLAIN XOAUTH2'],
    onCommand: (cmd, args, s) => {
      if (cmd === 'AUTH' && args.startsWith('XOAUTH2')) {
        tokens.push(Buffer.from(args.split(' ')[1] ?? '', 'base64').toString())
        s.write('+ eyJzdGF0dXMiOiI0MDEifQ==\r\n')
        return true
      }
      if (cmd === '' && tokens.length > 0) { s.write('-ERR [AUTH] invalid token\r\n'); return true }
      return false
    },
  })
  t.after(() => server.close())
  const plain = await connectPop3(clientOptions(server.port))
  assert.equal(plain.authMethod, 'PLAIN')
  await plain.quit()
  const err = await rejectsWith(connectPop3(clientOptions(server.port, { password: undefined, accessToken: 'tok' })), 'auth-failed')
  assert.equal(err.status, 401)
  assert.deepEqual(tokens, ['user=alice\x01auth=Bearer tok\x01\x01'])
})

test('a stall mid-message → upstream-timeout within the timeout; the stream errors, no hang', async (t) => {
  const server = await startFakeServer({
    messages: [{ uid: 'a', raw }],
    onCommand: (cmd, _a, s) => {
      if (cmd !== 'RETR') return false
      s.write('+OK\r\nSubject: hi\r\n\r\nhalf of it')
      return true // …and never the rest
    },
  })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port, { timeoutMs: 300 }))
  const started = Date.now()
  const stream = await client.retr(1)
  await rejectsWith(readAll(stream), 'upstream-timeout')
  const took = Date.now() - started
  assert.ok(took >= 250 && took < 1500, `timed out after ${took} ms`)
  assert.equal(client.closed, true)
  await rejectsWith(client.stat(), 'upstream-timeout')
})

test('a silent server → greeting timeout', async (t) => {
  // reads (a plain connection that stays silent is probed for TLS on a second one) but never answers
  const silent = net.createServer(s => s.on('error', () => {}).resume())
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise(resolve => silent.close(resolve)))
  const port = (silent.address() as net.AddressInfo).port
  await rejectsWith(connectPop3(clientOptions(port, { timeoutMs: 200 })), 'upstream-timeout')
})

test('connection dropped mid-RETR → upstream-unavailable on the stream; a new connection works', async (t) => {
  let drop = true
  const server = await startFakeServer({
    messages: [{ uid: 'a', raw }],
    onCommand: (cmd, _a, s) => {
      if (cmd !== 'RETR' || !drop) return false
      drop = false
      s.write('+OK\r\nSubject: hi\r\n\r\nxxxx')
      setTimeout(() => s.socket.destroy(), 20)
      return true
    },
  })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  await rejectsWith(readAll(await client.retr(1)), 'upstream-unavailable')
  const next = await connectPop3(clientOptions(server.port))
  assert.deepEqual(await readAll(await next.retr(1)), raw)
  await next.quit()
})

test('a hostile endless status line is capped (no unbounded memory)', async (t) => {
  const server = await startFakeServer({
    onCommand: async (cmd, _a, s) => {
      if (cmd !== 'STAT') return false
      const junk = Buffer.alloc(64 * 1024, 0x41)
      for (let i = 0; i < 100 && !s.socket.destroyed; i++) { s.write(junk); await delay(1) }
      return true
    },
  })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  const err = await rejectsWith(client.stat(), 'upstream-unavailable')
  assert.match(err.message, /over-long/)
})

test('a buffered reply over its cap drops the connection instead of growing', async (t) => {
  const many = Array.from({ length: 2000 }, (_, i) => ({ uid: `uid-${i}`.padEnd(60, 'z'), raw }))
  const server = await startFakeServer({ messages: many })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port, { maxListBytes: 10_000 }))
  await rejectsWith(client.uidl(), 'upstream-unavailable')
})

test('destroying a RETR stream early with nothing queued closes the connection cleanly', async (t) => {
  const server = await startFakeServer({ messages: [{ uid: 'a', raw: Buffer.concat([raw, Buffer.alloc(2_000_000, 0x61)]) }] })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  const stream = await client.retr(1)
  await new Promise(resolve => stream.once('data', resolve))
  stream.destroy()
  await delay(20)
  assert.equal(client.closed, true)
})

test('destroying a RETR stream early with a command queued drains and keeps the connection', async (t) => {
  const server = await startFakeServer({ messages: [{ uid: 'a', raw: Buffer.concat([raw, Buffer.alloc(300_000, 0x61)]) }] })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  const stream = await client.retr(1)
  const stat = client.stat()
  await new Promise(resolve => stream.once('data', resolve))
  stream.destroy()
  assert.deepEqual(await stat, { count: 1, size: raw.length + 300_000 })
  assert.equal(client.closed, false)
  await client.quit()
})

test('reading never deletes: a session ends with RSET before QUIT when anything was marked', async (t) => {
  const server = await startFakeServer({ messages: [{ uid: 'a', raw }] })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  await client.dele(1)
  await new MaildropSession(client, 'settings').close()
  assert.deepEqual(server.commands.slice(-3), ['DELE 1', 'RSET', 'QUIT'])
  assert.equal(server.messages.length, 1)
})

test('only an exclusive session commits: its QUIT follows the DELE with no RSET, and a shared one refuses', async (t) => {
  const server = await startFakeServer({ messages: [{ uid: 'a', raw }, { uid: 'b', raw }] })
  t.after(() => server.close())
  const shared = new MaildropSession(await connectPop3(clientOptions(server.port)), 'settings')
  await assert.rejects(shared.close({ commit: true }), { code: 'internal' })
  await shared.close()
  const own = new MaildropSession(await connectPop3(clientOptions(server.port)), 'settings', true)
  await own.client.dele(2)
  await own.close({ commit: true })
  assert.deepEqual(server.commands.slice(-2), ['DELE 2', 'QUIT'])
  assert.deepEqual(server.messages.map(m => m.uid), ['a'])
})

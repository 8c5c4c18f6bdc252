/**
 * What a hostile POP3 server got out of the client before (found by fuzzing it
 * with scripted replies, session 7): replies that left a command unsettled for
 * ever, a password echoed into an error, an uncaught stream error, unbounded
 * listings, numbers past 2^53 blamed on the caller, and a Retry-After of years.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connectPop3 } from '../../src/backends/pop3/client/index.ts'
import { MAX_MAILDROP_MESSAGES } from '../../src/backends/pop3/client/client.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { startFakeServer } from './fake-server.ts'
import { clientOptions, readAll, rejectsWith } from './helpers.ts'

/** Fails (instead of hanging the suite) when `p` has not settled within `ms`. */
async function settles<T> (p: Promise<T>, ms = 3000): Promise<PromiseSettledResult<T>> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms) })
  try {
    return await Promise.race([Promise.allSettled([p]).then(([r]) => r as PromiseSettledResult<T>), hang])
  } finally {
    clearTimeout(timer)
  }
}

test('+OK to STLS with bytes after it in the same packet: the login fails at once (it never settled)', async (t) => {
  const server = await startFakeServer({
    capa: ['USER', 'STLS'],
    onCommand: (cmd, _a, s) => cmd === 'STLS' && (s.write('+OK go\r\n+OK injected\r\n'), true),
  })
  t.after(() => server.close())
  const result = await settles(connectPop3(clientOptions(server.port, { security: 'starttls', timeoutMs: 300 })))
  assert.equal(result.status, 'rejected')
  assert.ok(result.status === 'rejected' && result.reason instanceof GatewayError && result.reason.code === 'upstream-unavailable', String((result as PromiseRejectedResult).reason))
})

test('+OK to QUIT with bytes after it: quit() settles (a maildrop waiting on it hung for good)', async (t) => {
  const server = await startFakeServer({ onCommand: (cmd, _a, s) => cmd === 'QUIT' && (s.write('+OK bye\r\nX'), true) })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port, { timeoutMs: 300 }))
  const result = await settles(client.quit())
  assert.ok(result.status === 'fulfilled' || (result.reason instanceof GatewayError && result.reason.code === 'upstream-unavailable'))
})

test('-ERR [SYS/TEMP] to a login step never shows the server text, which may echo the password', async (t) => {
  for (const capa of [['USER'], ['SASL PLAIN']]) {
    const server = await startFakeServer({
      capa,
      onCommand: (cmd, args, s) => (cmd === 'PASS' || cmd === 'AUTH') && (s.write(`-ERR [SYS/TEMP] backend down, got: ${cmd} ${args}\r\n`), true),
    })
    t.after(() => server.close())
    const err = await rejectsWith(connectPop3(clientOptions(server.port, { password: 'Pw-s3cr3t-XYZZY' })), 'upstream-unavailable')
    const plain = Buffer.from('\0alice\0Pw-s3cr3t-XYZZY').toString('base64')
    assert.ok(!err.message.includes('s3cr3t') && !err.message.includes(plain), err.message)
  }
})

test('a RETR stream that fails in the same read as its +OK errors for its reader, not as an uncaught exception', async (t) => {
  const server = await startFakeServer({
    messages: [{ uid: 'a', raw: Buffer.from('x') }],
    onCommand: (cmd, _a, s) => cmd === 'RETR' && (s.write(Buffer.concat([Buffer.from('+OK\r\n'), Buffer.alloc(5000, 0x61), Buffer.from('\r\n.\r\n')])), true),
  })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  const stream = await client.retr(1, { maxBytes: 100 })
  await new Promise(resolve => setTimeout(resolve, 20)) // the error has been emitted by now
  await assert.rejects(readAll(stream), (err: unknown) => err instanceof GatewayError && err.code === 'upstream-unavailable')
  client.destroy()
})

test('listings: more than MAX_MAILDROP_MESSAGES lines, or numbers past 2^53, are the server\'s fault (502), not the caller\'s', async (t) => {
  const many = Array.from({ length: MAX_MAILDROP_MESSAGES + 1 }, (_, i) => `${i + 1} u${i}\r\n`).join('')
  const replies: Record<string, string> = {
    UIDL: `+OK\r\n${many}.\r\n`,
    LIST: '+OK\r\n99999999999999999999 10\r\n.\r\n',
  }
  const server = await startFakeServer({ onCommand: (cmd, _a, s) => cmd in replies && (s.write(replies[cmd] as string), true) })
  t.after(() => server.close())
  const client = await connectPop3(clientOptions(server.port))
  t.after(() => client.destroy())
  const uidl = await rejectsWith(client.uidl(), 'upstream-unavailable')
  assert.match(uidl.message, /more than 200000 messages/)
  await rejectsWith(client.list(), 'upstream-unavailable')
})

test('a LOGIN-DELAY of years becomes a Retry-After of at most an hour', async (t) => {
  const server = await startFakeServer({
    capa: ['USER', 'LOGIN-DELAY 999999999'],
    onCommand: (cmd, _a, s) => cmd === 'PASS' && (s.write('-ERR [LOGIN-DELAY] wait\r\n'), true),
  })
  t.after(() => server.close())
  const err = await rejectsWith(connectPop3(clientOptions(server.port)), 'rate-limited')
  assert.equal(err.retryAfter, 3600)
})

test('a server dripping a reply byte by byte meets a deadline (the inactivity timer restarted on every byte)', async (t) => {
  const server = await startFakeServer({
    capa: ['USER'],
    onCommand: (cmd, _a, s) => {
      if (cmd !== 'CAPA') return false
      const lines = Buffer.from('+OK\r\n' + 'X-PAD '.repeat(200) + '\r\nUSER\r\n.\r\n')
      let i = 0
      const drip = setInterval(() => { if (i < lines.length) s.write(lines.subarray(i, ++i)); else clearInterval(drip) }, 20)
      s.socket.on('close', () => clearInterval(drip))
      return true
    },
  })
  t.after(() => server.close())
  const started = Date.now()
  // 100 ms without a byte would time out; 4 × 100 ms for the whole reply does, long before its 1 200 bytes have dripped in (24 s)
  await rejectsWith(connectPop3(clientOptions(server.port, { timeoutMs: 100 })), 'upstream-timeout')
  assert.ok(Date.now() - started < 5000)
})

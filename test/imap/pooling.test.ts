// Connection pooling against the harness Dovecot: caps, reuse, dropped connections, raw streams.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Readable } from 'node:stream'
import { openImap } from '../../src/backends/imap/connect.ts'
import type { MessageKey } from '../../src/mail/backend.ts'
import { waitFor } from '../env/wait.ts'
import { directClient, env, mail, makeBackend, newAccount } from './helpers.ts'

const run = promisify(execFile)
const backends: Array<ReturnType<typeof makeBackend>> = []
function fresh (over: Parameters<typeof makeBackend>[0] = {}): ReturnType<typeof makeBackend> {
  const b = makeBackend(over)
  backends.push(b)
  return b
}
after(async () => { await Promise.all(backends.map(b => b.backend.close())) })

function keyOf (d: { uidValidity: number, uid: number }, mailbox = 'INBOX'): MessageKey {
  return { mailbox, validity: String(d.uidValidity), key: String(d.uid) }
}

async function readAll (stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A message of about `bytes` octets with CRLF lines and a non-ASCII byte mix. */
function bigMail (bytes: number): Buffer {
  const line = 'Zeile mit Umlauten: äöü ß — and some ASCII filler text 0123456789\r\n'
  return mail({ subject: 'big raw', body: line.repeat(Math.ceil(bytes / Buffer.byteLength(line))), extraHeaders: ['Content-Transfer-Encoding: 8bit'] })
}

test('40 concurrent reads of one account never hold more than 3 server connections', async () => {
  const { backend } = fresh()
  const { user, ctx } = await newAccount('pool-burst')
  const delivered = await env.dovecot.deliverMany(user.username, Array.from({ length: 5 }, () => ({ raw: mail() })))
  let max = 0
  const state = { polling: true }
  const poller = (async () => {
    while (state.polling) {
      max = Math.max(max, await env.dovecot.connectionCount(user.username))
      await sleep(5)
    }
  })()
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => backend.getMessages(ctx, [keyOf(delivered[i % 5]!)])))
  state.polling = false
  await poller
  max = Math.max(max, await env.dovecot.connectionCount(user.username))
  assert.ok(results.every(r => r[0] !== null))
  assert.ok(max >= 1, 'the poller saw the connections')
  assert.ok(max <= 3, `saw ${max} connections`)
  assert.ok(backend.stats().total <= 3)
})

test('20 sequential requests after login cost one login', async () => {
  const { backend, attempts } = fresh()
  const { user, settings, ctx } = await newAccount('pool-seq')
  await env.dovecot.deliver(user.username, mail())
  await backend.login(settings)
  for (let i = 0; i < 20; i++) {
    if (i % 2 === 0) await backend.listMailboxes(ctx)
    else await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  }
  assert.equal(attempts(), 1)
  assert.equal(await env.dovecot.loginCount(user.username, 'imap'), 1)
})

test('two passwords for one account never share a connection', async () => {
  const { backend, clients } = fresh()
  const { settings, ctx } = await newAccount('pool-two')
  await backend.login(settings)
  const other = { ...ctx, settings: { ...settings, password: 'wrong-one' } }
  await assert.rejects(backend.listMailboxes(other))
  assert.equal(clients.length, 1, 'the failed login made no usable connection')
  await backend.listMailboxes(ctx)
})

test('a connection killed by the server is replaced transparently', async () => {
  const { backend, attempts } = fresh()
  const { user, settings, ctx } = await newAccount('pool-kick')
  await env.dovecot.deliver(user.username, mail())
  await backend.login(settings)
  await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
  await env.dovecot.waitForConnections(user.username, n => n === 1)
  await run('doveadm', ['-c', env.dovecot.info.configFile, 'kick', user.username])
  await env.dovecot.waitForConnections(user.username, n => n === 0)
  const page = await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
  assert.equal(page.items.length, 1)
  assert.equal(attempts(), 2)
})

test('a connection dropped under a request is retried once on a new connection', async () => {
  const { backend, attempts, clients } = fresh({ idleMs: 60_000 })
  const { user, settings, ctx } = await newAccount('pool-drop')
  await env.dovecot.deliver(user.username, mail())
  await backend.login(settings)
  // the pooled connection dies without the pool having heard of it yet
  const victim = clients[0]!
  const socket = (victim as unknown as { socket: { destroy: () => void } }).socket
  victim.removeAllListeners('close')
  socket.destroy()
  const boxes = await backend.listMailboxes(ctx)
  assert.ok(boxes.some(b => b.path === 'INBOX'))
  assert.equal(attempts(), 2)
})

test('openRaw streams BODY[] byte for byte', async () => {
  const { backend } = fresh()
  const { user, ctx } = await newAccount('pool-raw')
  const big = bigMail(700 * 1024)
  const [small, large] = await env.dovecot.deliverMany(user.username, [{ raw: mail({ subject: 'small raw' }) }, { raw: big }])
  const direct = await directClient(user)
  let expected: Buffer[]
  try {
    const lock = await direct.getMailboxLock('INBOX')
    try {
      const fetched = await direct.fetchAll(`${small!.uid},${large!.uid}`, { uid: true, source: true }, { uid: true })
      expected = [small!, large!].map(d => fetched.find(m => m.uid === d.uid)!.source!)
    } finally { lock.release() }
  } finally { await direct.logout() }
  for (const [i, d] of [small!, large!].entries()) {
    const raw = await backend.openRaw(ctx, keyOf(d))
    const bytes = await readAll(raw.stream)
    assert.equal(raw.size, expected[i]!.length)
    assert.ok(bytes.equals(expected[i]!), `message ${i} differs`)
  }
  assert.ok(expected[1]!.equals(big), 'Dovecot stores the delivered CRLF message unchanged')
  const none = { ...keyOf(large!), key: '9999' }
  await assert.rejects(backend.openRaw(ctx, none), (e: unknown) => (e as { code?: string }).code === 'not-found')
})

test('openRaw of mail delivered after the pooled connection last synced (no NOOP first: it syncs on a miss)', async () => {
  const { backend } = fresh({ maxPerAccount: 1 })
  const { user, ctx } = await newAccount('pool-raw-new')
  await env.dovecot.deliverMany(user.username, [{ raw: mail({ subject: 'old' }) }])
  await backend.listMessages(ctx, 'INBOX', { limit: 1, filter: {} }) // INBOX now selected on the one connection
  const [d] = await env.dovecot.deliverMany(user.username, [{ raw: mail({ subject: 'arrived later' }) }])
  const raw = await backend.openRaw(ctx, keyOf(d!))
  assert.match((await readAll(raw.stream)).toString('latin1'), /Subject: arrived later/)
  assert.equal(backend.stats().total, 1)
})

test('aborting a raw stream mid-way frees its connection', async () => {
  const { backend } = fresh({ maxPerAccount: 1 })
  const { user, ctx } = await newAccount('pool-abort')
  const [d] = await env.dovecot.deliverMany(user.username, [{ raw: bigMail(2 * 1024 * 1024) }])
  for (let i = 0; i < 3; i++) {
    const raw = await backend.openRaw(ctx, keyOf(d!))
    const first = await new Promise<Buffer>((resolve, reject) => {
      raw.stream.once('data', resolve)
      raw.stream.once('error', reject)
    })
    assert.ok(first.length > 0)
    raw.stream.destroy()
    // with one connection per account, the next request only works if the lease came back
    const page = await backend.listMessages(ctx, 'INBOX', { limit: 1, filter: {} })
    assert.equal(page.items.length, 1)
  }
  assert.ok(await env.dovecot.connectionCount(user.username) <= 1)
  assert.equal(backend.stats().total, 1)
})

test('release() logs out the connections of those credentials; close() logs out everything', async () => {
  const { backend } = fresh()
  const { user, settings, ctx } = await newAccount('pool-release')
  await backend.login(settings)
  await backend.listMailboxes(ctx)
  await env.dovecot.waitForConnections(user.username, n => n === 1)
  await backend.release(settings)
  await env.dovecot.waitForConnections(user.username, n => n === 0)
  await backend.listMailboxes(ctx)
  await env.dovecot.waitForConnections(user.username, n => n === 1)
  await backend.close()
  await env.dovecot.waitForConnections(user.username, n => n === 0)
})

test('idle connections are logged out after idleMs', async () => {
  const IDLE_MS = 200
  // the close of the pooled connection is the event to wait for (polling the server for the
  // open connection first raced the idle timer on a loaded machine)
  let closed: (at: number) => void = () => {}
  const closedAt = new Promise<number>(resolve => { closed = resolve })
  const { backend } = fresh({
    idleMs: IDLE_MS,
    connect: async (settings, deps, onClose) => await openImap(settings, deps, (client) => { closed(performance.now()); onClose(client) }),
  })
  const { user, ctx } = await newAccount('pool-idle')
  await backend.listMailboxes(ctx)
  const idleSince = performance.now()
  const at = await Promise.race([closedAt, sleep(10_000, undefined, { ref: false }).then(() => { throw new Error('the idle connection was never closed') })])
  assert.ok(at - idleSince >= IDLE_MS - 20, `closed ${Math.round(at - idleSince)} ms after it went idle, before idleMs`)
  // by LOGOUT (Dovecot logs a dropped connection as "Connection closed")
  const logout = new RegExp(`^\\S+ \\S+ \\S+ imap\\(${user.username}\\)\\S*: Info: Disconnected: Logged out`, 'm')
  for (let tries = 0; !logout.test(await readFile(env.dovecot.info.logFile, 'utf8')); tries++) {
    assert.ok(tries < 250, 'Dovecot logged no LOGOUT of the idle connection')
    await sleep(20)
  }
  await env.dovecot.waitForConnections(user.username, n => n === 0)
  await waitFor(() => backend.stats().total === 0, 5000, 'the pool to count the connection gone')
})

test('a connection logged in longer than maxAgeMs is not reused: the next request logs in again, so a changed password cuts it off', async () => {
  const { backend } = fresh({ maxAgeMs: 1000 })
  const { user, settings, ctx } = await newAccount('pool-age')
  await backend.login(settings)
  await backend.listMailboxes(ctx)
  assert.equal(await env.dovecot.loginCount(user.username, 'imap'), 1, 'reused while young')
  await sleep(1100)
  await backend.listMailboxes(ctx)
  assert.equal(await env.dovecot.loginCount(user.username, 'imap'), 2, 'logged in again once aged')
  // the password changes on the server (Dovecot re-reads the passwd-file within a second)
  const file = join(env.dovecot.info.usersDir, user.username)
  await writeFile(`${file}.tmp`, `${user.username}:{PLAIN}changed-${user.password}\n`, { mode: 0o644 })
  await rename(`${file}.tmp`, file)
  await sleep(1100)
  await assert.rejects(backend.listMailboxes(ctx), { code: 'auth-failed' })
})

// Stalls a real server will not produce on demand, from a scripted loopback fake:
// no greeting, a login that never answers, a command that never answers.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { GatewayError } from '../../src/mail/errors.ts'
import { accountIdOf } from '../../src/mail/ids.ts'
import type { ConnectionSettings } from '../../src/mail/types.ts'
import { makeBackend } from './helpers.ts'

type Mode = 'silent' | 'stall-login' | 'stall-list'

const sockets = new Set<Socket>()

async function fakeServer (mode: Mode): Promise<{ server: Server, port: number }> {
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    if (mode === 'silent') return
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n')
    let buffer = ''
    socket.on('data', (data) => {
      buffer += data.toString('latin1')
      let nl: number
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 2)
        const [tag, command = ''] = line.split(' ')
        const verb = command.toUpperCase()
        if ((verb === 'LOGIN' || verb === 'AUTHENTICATE') && mode === 'stall-login') continue
        // imapflow asks LIST "" "" for the delimiter while connecting: answer that one
        if (verb === 'LIST' && line.endsWith('"" ""')) socket.write('* LIST (\\Noselect) "/" ""\r\n')
        else if ((verb === 'LIST' || verb === 'LSUB') && mode === 'stall-list') continue
        if (verb === 'CAPABILITY') socket.write('* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n')
        if (verb === 'NAMESPACE') socket.write('* NAMESPACE (("" "/")) NIL NIL\r\n')
        if (verb === 'LOGOUT') socket.write('* BYE bye\r\n')
        socket.write(`${tag} OK done\r\n`)
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { server, port: address.port }
}

const servers: Server[] = []
const { backend, attempts } = makeBackend({ timeoutMs: 300 })
after(async () => {
  await backend.close()
  for (const s of sockets) s.destroy()
  await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))))
})

async function settingsFor (mode: Mode): Promise<ConnectionSettings> {
  const { server, port } = await fakeServer(mode)
  servers.push(server)
  return { protocol: 'imap', host: 'localhost', port, security: 'none', username: 'u', password: 'p' }
}

const isTimeout = (err: unknown): boolean => err instanceof GatewayError && err.code === 'upstream-timeout'

for (const mode of ['silent', 'stall-login'] as const) {
  test(`a server that ${mode === 'silent' ? 'never greets' : 'never answers LOGIN'} → upstream-timeout, quickly`, async () => {
    const settings = await settingsFor(mode)
    const started = Date.now()
    await assert.rejects(backend.login(settings), isTimeout)
    assert.ok(Date.now() - started < 3000, 'bounded by the configured timeout')
  })
}

test('a command that never answers → upstream-timeout, and the connection is not reused', async () => {
  const settings = await settingsFor('stall-list')
  await backend.login(settings)
  const ctx = { accountId: accountIdOf(settings), settings }
  const started = Date.now()
  await assert.rejects(backend.listMailboxes(ctx), isTimeout)
  assert.ok(Date.now() - started < 3000)
  assert.equal(backend.stats().busy, 0)
  const before = attempts()
  await assert.rejects(backend.listMailboxes(ctx), isTimeout)
  assert.equal(attempts(), before + 1, 'the timed-out connection was closed, a new one opened')
})

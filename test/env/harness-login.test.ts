// The harness Dovecot accepts fresh users over every listener, with TLS verifiable by the CA.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { testEnv } from './shared.ts'
import { Wire } from './wire.ts'

const env = await testEnv()
const { ports, caFile } = env.dovecot

async function imapLogin (wire: Wire, user: { username: string, password: string }): Promise<string> {
  const reply = await wire.command(`a1 LOGIN "${user.username}" "${user.password}"`, (l) => l.startsWith('a1 '))
  wire.write('a2 LOGOUT\r\n')
  return reply.at(-1)!
}

async function pop3Login (wire: Wire, user: { username: string, password: string }): Promise<string[]> {
  const replies = [
    (await wire.command(`USER ${user.username}`, () => true))[0]!,
    (await wire.command(`PASS ${user.password}`, () => true))[0]!
  ]
  await wire.command('QUIT', () => true)
  return replies
}

test('a new user logs in over plain IMAP at once, and STARTTLS is offered', async () => {
  const user = await env.dovecot.createUser('login')
  const wire = await Wire.open({ port: ports.imap })
  try {
    const greeting = await wire.readLine()
    assert.match(greeting, /^\* OK .*STARTTLS/)
    assert.match(await imapLogin(wire, user), /^a1 OK/)
  } finally { wire.close() }
})

test('a wrong password is refused', async () => {
  const user = await env.dovecot.createUser('login')
  const wire = await Wire.open({ port: ports.imap })
  try {
    await wire.readLine()
    assert.match(await imapLogin(wire, { ...user, password: 'wrong' }), /^a1 NO \[AUTHENTICATIONFAILED\]/)
  } finally { wire.close() }
})

test('STARTTLS upgrades to a certificate the CA verifies for localhost', async () => {
  const user = await env.dovecot.createUser('starttls')
  const wire = await Wire.open({ port: ports.imap })
  try {
    await wire.readLine()
    assert.match((await wire.command('s STARTTLS', (l) => l.startsWith('s '))).at(-1)!, /^s OK/)
    await wire.startTls(caFile, 'localhost')
    assert.equal(wire.tlsSocket?.authorized, true)
    assert.match(await imapLogin(wire, user), /^a1 OK/)
  } finally { wire.close() }
})

test('IMAPS verifies against the CA by name and by IP', async () => {
  const user = await env.dovecot.createUser('imaps')
  for (const servername of ['localhost', null]) {
    const wire = await Wire.open({ port: ports.imaps, tls: { caFile, servername } })
    try {
      assert.equal(wire.tlsSocket?.authorized, true)
      assert.match(await wire.readLine(), /^\* OK/)
      assert.match(await imapLogin(wire, user), /^a1 OK/)
    } finally { wire.close() }
  }
})

test('IMAPS is not trusted without the CA', async () => {
  await assert.rejects(Wire.open({ port: ports.imaps, tls: { caFile: '/dev/null' } }), /self[- ]signed|unable to (get|verify)/i)
})

test('POP3 offers STLS and logs in; POP3S verifies against the CA', async () => {
  const user = await env.dovecot.createUser('pop3')
  const plain = await Wire.open({ port: ports.pop3 })
  try {
    assert.match(await plain.readLine(), /^\+OK/)
    const capa = await plain.command('CAPA', (l) => l === '.')
    assert.ok(capa.includes('STLS'), capa.join('|'))
    assert.deepEqual((await pop3Login(plain, user)).map((l) => l.slice(0, 3)), ['+OK', '+OK'])
  } finally { plain.close() }
  const secure = await Wire.open({ port: ports.pop3s, tls: { caFile } })
  try {
    assert.equal(secure.tlsSocket?.authorized, true)
    assert.match(await secure.readLine(), /^\+OK/)
    assert.deepEqual((await pop3Login(secure, user)).map((l) => l.slice(0, 3)), ['+OK', '+OK'])
  } finally { secure.close() }
})

test('users created concurrently can all log in immediately', async () => {
  const users = await Promise.all(Array.from({ length: 12 }, async () => await env.dovecot.createUser('many users!')))
  assert.equal(new Set(users.map((u) => u.username)).size, users.length)
  for (const u of users) assert.match(u.username, /^many-users-[a-z0-9]+$/)
  await Promise.all(users.map(async (user) => {
    const wire = await Wire.open({ port: ports.imap })
    try {
      await wire.readLine()
      assert.match(await imapLogin(wire, user), /^a1 OK/)
    } finally { wire.close() }
  }))
})

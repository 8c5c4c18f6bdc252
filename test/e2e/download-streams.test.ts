/**
 * Downloads stream: with an upstream that sends the first part of a message
 * and then stays open, the status, the headers and that first part reach an
 * HTTP client at once, through the whole gateway (service, raw cache, REST).
 * Anything on the way that collected the message first would hold them back
 * until the upstream timeout; the test gives them a second and fails fast.
 * The servers are scripted fakes: a real one does not stall mid-message.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { encodeMessageId } from '../../src/mail/ids.ts'
import type { MessageKey } from '../../src/mail/backend.ts'
import { startFakeImap, type FakeImapServer } from '../imap/fake-imap-server.ts'
import { startFakeServer, type FakeServer } from '../pop3/fake-server.ts'
import { startGateway, type Gateway } from './gateway.ts'

const FIRST_WITHIN_MS = 1000
const PASSWORD = 'fake-upstream-password'
const HEAD = 'From: Ann <ann@example.com>\r\nSubject: stalled\r\n\r\n'

/** IMAP: the first 256 KiB partial FETCH of a 600 000-octet message is answered, the next never. */
async function stallingImap (): Promise<FakeImapServer> {
  const first = Buffer.from(HEAD + 'x'.repeat(256 * 1024 - HEAD.length))
  return await startFakeImap((tag, verb, line, socket) => {
    if (verb === 'EXAMINE' || verb === 'SELECT') {
      socket.write(`* FLAGS (\\Seen)\r\n* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n${tag} OK [READ-ONLY] done\r\n`)
      return true
    }
    if (verb === 'UID' && / FETCH /i.test(line)) {
      if (!/BODY\.PEEK\[\]<0\./i.test(line)) return true // the rest of the message: never
      socket.write(`* 1 FETCH (UID 1 RFC822.SIZE 600000 BODY[]<0> {${first.length}}\r\n`)
      socket.write(first)
      socket.write(`)\r\n${tag} OK done\r\n`)
      return true
    }
    return false
  })
}

/** POP3: RETR sends its +OK and the first part of the message, then nothing. */
async function stallingPop3 (): Promise<FakeServer> {
  return await startFakeServer({
    users: { alice: PASSWORD },
    messages: [{ uid: 'uid-1', raw: Buffer.from(HEAD + 'y'.repeat(4000) + '\r\n') }],
    onCommand: (cmd, _args, s) => {
      if (cmd !== 'RETR') return false
      s.write(`+OK 4052 octets\r\n${HEAD}${'y'.repeat(1000)}`)
      return true
    },
  })
}

describe('downloads stream', { timeout: 60_000 }, () => {
  let gw: Gateway
  let port: number
  let imap: FakeImapServer
  let pop3: FakeServer

  before(async () => {
    [imap, pop3] = await Promise.all([stallingImap(), stallingPop3()])
    gw = await startGateway()
    await gw.app.listen({ host: '127.0.0.1', port: 0 })
    port = (gw.app.server.address() as AddressInfo).port
  })
  after(async () => {
    // the servers first: their sockets end the stalled reads at once
    await Promise.all([imap?.close(), pop3?.close()])
    await gw?.close()
  })

  const cases = [
    { protocol: 'imap' as const, port: () => imap.port, key: { mailbox: 'INBOX', validity: '7', key: '1' } },
    { protocol: 'pop3' as const, port: () => pop3.port, key: { mailbox: 'INBOX', validity: null, key: 'uid-1' } },
  ]
  for (const c of cases) {
    it(`${c.protocol}: status, headers and the first chunk arrive while the upstream stays open`, async () => {
      const { token, account } = await gw.login({ username: 'alice', password: PASSWORD }, { protocol: c.protocol, security: 'none', port: c.port() })
      const id = encodeMessageId(account.id, c.key as MessageKey)

      const req = httpRequest({ host: '127.0.0.1', port, path: `/v1/messages/${id}/raw`, headers: { authorization: `Bearer ${token}` } })
      req.on('error', () => {})
      req.end()
      try {
        const signal = AbortSignal.timeout(FIRST_WITHIN_MS)
        const [response] = await once(req, 'response', { signal })
        assert.equal(response.statusCode, 200)
        assert.equal(response.headers['content-type'], 'message/rfc822')
        assert.match(String(response.headers.etag), /^"/)
        const [chunk] = await once(response, 'data', { signal }) as [Buffer]
        assert.ok(chunk.toString('latin1').startsWith('From: Ann'), chunk.toString('latin1', 0, 40))
        assert.equal(response.complete, false, 'the message is not over: the upstream is still open')
      } finally {
        req.destroy()
      }
    })
  }
})

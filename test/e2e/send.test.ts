/**
 * Sending through the gateway with the harness Postfix (SASL against Dovecot,
 * delivery to Dovecot over LMTP); every effect read back with the raw IMAP
 * session and parsed with mailparser, never with the gateway's own code.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { simpleParser } from 'mailparser'
import type { TestUser } from '../env/dovecot-ops.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { headersOf, readMailbox, waitForMail } from './mail-wait.ts'

const DOMAIN = 'example.test'
const addr = (u: TestUser): string => `${u.username}@${DOMAIN}`
/** mailparser gives some Message-IDs without their angle brackets. */
const bare = (id: string | undefined): string => (id ?? '').replace(/^<|>$/g, '')

describe('sending (POST /v1/messages/send) through Postfix', { timeout: 180_000 }, () => {
  let gw: Gateway
  let alice: TestUser
  let token: string
  let imap: number

  before(async () => {
    gw = await startGateway({ env: { SEND_LIMIT: '2MB' } })
    imap = gw.env.dovecot.ports.imap
    alice = await gw.env.dovecot.createUser('alice')
    const session = await gw.login(alice, { smtp: gw.smtp() })
    token = session.token
    assert.equal(session.account.capabilities.send, true)
  })
  after(async () => { await gw?.close() })

  const send = (payload: unknown, headers: Record<string, string> = {}, tok = token) => gw.app.inject({
    method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${tok}`, ...headers }, payload: payload as Record<string, unknown>,
  })

  it('delivers text, HTML and attachment bytes to every recipient; the Sent copy matches and has no Bcc', async () => {
    const [bob, carol, dave] = await Promise.all([gw.env.dovecot.createUser('bob'), gw.env.dovecot.createUser('carol'), gw.env.dovecot.createUser('dave')])
    const bytes = randomBytes(70_000)
    const res = await send({
      from: { name: 'Alice Ä', email: addr(alice) },
      to: [{ name: 'Bob', email: addr(bob!) }],
      cc: [{ email: addr(carol!) }],
      bcc: [{ email: addr(dave!) }],
      subject: 'Quarterly numbers – ünïcode',
      text: 'plain body\nline two',
      html: '<p>html <b>body</b></p>',
      headers: { 'X-Ticket': 'T-42' },
      attachments: [{ filename: 'data ü.bin', contentType: 'application/octet-stream', content: bytes.toString('base64') }],
    })
    assert.equal(res.statusCode, 200, res.body)
    const out = res.json() as { messageId: string, accepted: string[], rejected: unknown[], sentId: string | null }
    assert.deepEqual(out.accepted.sort(), [addr(bob!), addr(carol!), addr(dave!)].sort())
    assert.deepEqual(out.rejected, [])
    assert.match(out.messageId, /^<[^@>]+@example\.test>$/)
    assert.notEqual(out.sentId, null)

    for (const user of [bob!, carol!, dave!]) {
      const [stored] = await waitForMail(imap, user)
      const parsed = await simpleParser(stored!.raw)
      assert.equal(parsed.subject, 'Quarterly numbers – ünïcode')
      assert.equal(bare(parsed.messageId), bare(out.messageId))
      assert.equal(parsed.from?.value[0]?.name, 'Alice Ä')
      assert.equal(parsed.text?.trim(), 'plain body\nline two')
      assert.match(String(parsed.html), /<b>body<\/b>/)
      assert.equal(parsed.headers.get('x-ticket'), 'T-42')
      assert.equal(parsed.attachments.length, 1)
      assert.equal(parsed.attachments[0]!.filename, 'data ü.bin')
      assert.deepEqual(parsed.attachments[0]!.content, bytes, 'attachment bytes as sent')
      assert.equal(headersOf(stored!.raw).has('bcc'), false, `no Bcc in ${user.username}'s copy`)
    }
    // the Sent copy: the same message, \Seen, no Bcc
    const sent = await readMailbox(imap, alice, 'Sent')
    assert.equal(sent.length, 1)
    assert.match(sent[0]!.flags, /\\Seen/)
    assert.equal(headersOf(sent[0]!.raw).has('bcc'), false)
    const parsedSent = await simpleParser(sent[0]!.raw)
    assert.equal(bare(parsedSent.messageId), bare(out.messageId))
    assert.deepEqual(parsedSent.attachments[0]!.content, bytes)
    // sentId names that copy
    assert.equal(bare((await gw.get(`/v1/messages/${out.sentId!}`, token)).json().messageId), bare(out.messageId))
  })

  it('a reply threads (In-Reply-To, References, Re: subject) and flags the original $answered', async () => {
    const bob = await gw.env.dovecot.createUser('bob')
    const bobToken = (await gw.login(bob, { smtp: gw.smtp('tls') })).token
    const first = await send({ from: { email: addr(alice) }, to: [{ email: addr(bob) }], subject: 'Lunch?', text: 'noon?' })
    assert.equal(first.statusCode, 200, first.body)
    await waitForMail(imap, bob)
    const inbox = (await gw.get((await gw.get('/v1/mailboxes', bobToken)).json().items.find((m: { role: string }) => m.role === 'inbox').id.replace(/^/, '/v1/mailboxes/') + '/messages', bobToken)).json()
    const original = inbox.items[0] as { id: string, messageId: string }
    const reply = await send({ from: { email: addr(bob) }, to: [{ email: addr(alice) }], text: 'yes', inReplyTo: original.id }, {}, bobToken)
    assert.equal(reply.statusCode, 200, reply.body)
    const got = await waitForMail(imap, alice)
    const parsed = await simpleParser(got.at(-1)!.raw)
    assert.equal(parsed.subject, 'Re: Lunch?')
    assert.equal(parsed.inReplyTo, first.json().messageId)
    assert.deepEqual([parsed.references].flat(), [first.json().messageId])
    const [stored] = await readMailbox(imap, bob)
    assert.match(stored!.flags, /\\Answered/, 'the original is flagged $answered on the server')
  })

  it('refuses header injection through subject, names, addresses, file names and extra headers (400, nothing sent)', async () => {
    const bob = await gw.env.dovecot.createUser('bob')
    const to = [{ email: addr(bob) }]
    const cases: unknown[] = [
      { to, subject: 'hi\r\nBcc: evil@example.test' },
      { to, subject: 'hi\nX-Evil: 1' },
      { to: [{ name: 'Bob\r\nBcc: evil@example.test', email: addr(bob) }] },
      { to: [{ email: `${addr(bob)}\r\nRCPT TO:<evil@example.test>` }] },
      { to, attachments: [{ filename: 'a.txt"\r\nContent-Type: text/html', contentType: 'text/plain', content: 'aGk=' }] },
      { to, headers: { 'X-Ok': 'v\r\nBcc: evil@example.test' } },
      { to, headers: { Bcc: 'evil@example.test' } },
    ]
    for (const body of cases) {
      const res = await send({ from: { email: addr(alice) }, ...(body as object) })
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)} → ${res.body}`)
    }
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal((await readMailbox(imap, bob)).length, 0)
  })

  it('invalid addresses are 400', async () => {
    for (const email of ['not-an-address', 'a@', '@example.test', 'a b@example.test', 'a@@example.test']) {
      const res = await send({ from: { email: addr(alice) }, to: [{ email }] })
      assert.equal(res.statusCode, 400, `${email}: ${res.body}`)
    }
    assert.equal((await send({ from: { email: addr(alice) }, to: [] })).statusCode, 400, 'no recipient')
  })

  it('reports a recipient Postfix refuses (unknown local user) and delivers to the others', async () => {
    const bob = await gw.env.dovecot.createUser('bob')
    const res = await send({ from: { email: addr(alice) }, to: [{ email: addr(bob) }, { email: `nobody@${DOMAIN}` }], text: 'x' })
    assert.equal(res.statusCode, 200, res.body)
    const out = res.json() as { accepted: string[], rejected: Array<{ email: string, reply: string }> }
    assert.deepEqual(out.accepted, [addr(bob)])
    assert.equal(out.rejected.length, 1)
    assert.equal(out.rejected[0]!.email, `nobody@${DOMAIN}`)
    assert.match(out.rejected[0]!.reply, /^550 5\.1\.1 .*User unknown/)
    assert.equal((await waitForMail(imap, bob)).length, 1)
  })

  it('every recipient refused is 422 send-rejected with the server reply', async () => {
    const res = await send({ from: { email: addr(alice) }, to: [{ email: `nobody@${DOMAIN}` }], text: 'x', saveToSent: false })
    assert.equal(res.statusCode, 422, res.body)
    const problem = res.json() as { code: string, detail: string, rejected: Array<{ email: string }> }
    assert.equal(problem.code, 'send-rejected')
    assert.match(problem.detail, /550 5\.1\.1/)
    assert.equal(problem.rejected[0]?.email, `nobody@${DOMAIN}`)
  })

  it('a raw message is sent as given but for its Bcc header; the Bcc recipient still gets it', async () => {
    const [bob, dave] = await Promise.all([gw.env.dovecot.createUser('bob'), gw.env.dovecot.createUser('dave')])
    const raw = Buffer.from(`From: ${addr(alice)}\r\nTo: ${addr(bob!)}\r\nBcc: ${addr(dave!)},\r\n hidden@${DOMAIN}\r\nSubject: raw one\r\nMessage-ID: <raw-1@example.test>\r\n\r\nbody line\r\n`)
    const res = await gw.app.inject({ method: 'POST', url: '/v1/messages/send', headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' }, payload: raw })
    assert.equal(res.statusCode, 200, res.body)
    const out = res.json() as { messageId: string, accepted: string[], rejected: Array<{ email: string }> }
    assert.equal(out.messageId, '<raw-1@example.test>')
    assert.deepEqual(out.rejected.map(r => r.email), [`hidden@${DOMAIN}`])
    for (const user of [bob!, dave!]) {
      const [stored] = await waitForMail(imap, user)
      assert.equal(headersOf(stored!.raw).has('bcc'), false)
      // as given (Postfix adds the Date it lacked), the body untouched
      assert.match(stored!.raw.toString(), /\r\nFrom: \S+\r\nTo: \S+\r\nSubject: raw one\r\nMessage-ID: <raw-1@example\.test>\r\n(?:Date: [^\r]+\r\n)?\r\nbody line\r\n$/)
    }
    // Postfix strips Bcc itself: the Sent copy (APPENDed by the gateway) shows the gateway removed it
    const sent = (await readMailbox(imap, alice, 'Sent')).map(m => m.raw.toString()).find(r => r.includes('<raw-1@example.test>'))
    assert.ok(sent !== undefined, 'a Sent copy')
    assert.equal(headersOf(Buffer.from(sent)).has('bcc'), false)
    assert.match(sent, /^From: \S+\r\nTo: \S+\r\nSubject: raw one\r\nMessage-ID: <raw-1@example\.test>\r\n\r\nbody line\r\n$/)
  })

  it('the same Idempotency-Key twice delivers once and answers the same', async () => {
    const bob = await gw.env.dovecot.createUser('bob')
    const body = { from: { email: addr(alice) }, to: [{ email: addr(bob) }], subject: 'once', text: 'x', saveToSent: false }
    const key = { 'idempotency-key': `send-${randomBytes(6).toString('hex')}` }
    const first = await send(body, key)
    const second = await send(body, key)
    assert.equal(first.statusCode, 200, first.body)
    assert.equal(second.statusCode, 200)
    assert.equal(second.headers['idempotent-replayed'], 'true')
    assert.equal(second.json().messageId, first.json().messageId)
    await waitForMail(imap, bob)
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal((await readMailbox(imap, bob)).length, 1, 'one delivery')
  })

  it('GraphQL sendMessage sends the same way; send-rejected carries its code', async () => {
    const bob = await gw.env.dovecot.createUser('bob')
    const gql = (query: string, variables: Record<string, unknown>) => gw.app.inject({
      method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query, variables },
    })
    const mutation = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { messageId accepted rejected { email reply } sentId } }'
    const res = await gql(mutation, { input: { from: { email: addr(alice) }, to: [{ email: addr(bob) }], subject: 'via graphql', text: 'g', headers: [{ name: 'X-Via', value: 'gql' }] } })
    const out = res.json() as { data: { sendMessage: { messageId: string, accepted: string[], sentId: string | null } } }
    assert.deepEqual(out.data.sendMessage.accepted, [addr(bob)], res.body)
    const [stored] = await waitForMail(imap, bob)
    const parsed = await simpleParser(stored!.raw)
    assert.equal(parsed.subject, 'via graphql')
    assert.equal(parsed.headers.get('x-via'), 'gql')
    const refused = await gql(mutation, { input: { from: { email: addr(alice) }, to: [{ email: `nobody@${DOMAIN}` }] } })
    assert.equal((refused.json() as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code, 'send-rejected')
    const injected = await gql(mutation, { input: { from: { email: addr(alice) }, to: [{ email: addr(bob) }], subject: 'a\r\nBcc: x@example.test' } })
    assert.equal((injected.json() as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code, 'bad-request')
  })

  it('a message over SEND_LIMIT is 413 and nothing is sent', async () => {
    const bob = await gw.env.dovecot.createUser('bob')
    const res = await send({ from: { email: addr(alice) }, to: [{ email: addr(bob) }], attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', content: randomBytes(2_200_000).toString('base64') }] })
    assert.equal(res.statusCode, 413, res.body)
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal((await readMailbox(imap, bob)).length, 0)
  })
})

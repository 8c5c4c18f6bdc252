/**
 * A message sent through the gateway (Postfix → LMTP → Dovecot) reaches the
 * recipient's SSE subscriber (`GET /v1/events`, signed in as the recipient) as
 * `message.created` with the id of the delivered message. The delivered UID is
 * found with the raw IMAP session by its Message-ID; waits are generous and
 * nothing about timing is asserted.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeMessageId } from '../../src/mail/ids.ts'
import { headersOf, readMailbox } from './mail-wait.ts'
import { startGateway } from './gateway.ts'
import { waitFor } from '../env/wait.ts'
import { sseSubscriber, type EventJson } from '../realtime/clients.ts'

const WAIT_MS = 60_000

test('a sent message reaches the recipient\'s SSE subscriber as message.created', { timeout: 180_000 }, async (t) => {
  const gw = await startGateway({ realtime: true, env: { WATCH_POLL_MS: '2000' } })
  t.after(() => gw.close())
  await gw.app.listen({ host: '127.0.0.1', port: 0 })
  const address = gw.app.server.address()
  assert.ok(address !== null && typeof address === 'object')
  const base = `http://127.0.0.1:${address.port}`
  const { dovecot } = gw.env
  const imap = dovecot.ports.imap
  const [sender, recipient] = await Promise.all([dovecot.createUser('evsend'), dovecot.createUser('evrecv')])
  const { token: senderToken } = await gw.login(sender!, { smtp: gw.smtp() })
  const { token, account } = await gw.login(recipient!)

  const events: EventJson[] = []
  const sub = sseSubscriber(base, token, e => events.push(e))
  t.after(() => sub.close())
  await sub.ready
  const created = (id: string): boolean => events.some(e => e.type === 'message.created' && (e.messageIds ?? []).includes(id))

  // the watcher takes its starting state after the subscription opens: deliver
  // (directly, uncounted) until one such delivery is seen
  let validity = ''
  for (let i = 0; ; i++) {
    const d = await dovecot.deliver(recipient!.username, Buffer.from(`Subject: prime ${i}\r\n\r\nhello\r\n`))
    validity = String(d.uidValidity)
    try {
      await waitFor(() => created(encodeMessageId(account.id, { mailbox: 'INBOX', validity, key: String(d.uid) })), 3000, 'the priming delivery')
      break
    } catch (err) {
      if (i === 10) throw err
    }
  }

  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/messages/send',
    headers: { authorization: `Bearer ${senderToken}` },
    payload: { from: { email: `${sender!.username}@example.test` }, to: [{ email: `${recipient!.username}@example.test` }], subject: 'real time', text: 'hello over SMTP', saveToSent: false },
  })
  assert.equal(res.statusCode, 200, res.body)
  const { messageId } = res.json() as { messageId: string }

  // the delivered copy, found by its Message-ID with the raw IMAP session
  let uid = 0
  const deadline = Date.now() + WAIT_MS
  while (uid === 0) {
    for (const m of await readMailbox(imap, recipient!)) {
      if ((headersOf(m.raw).get('message-id') ?? []).some(v => v.trim() === messageId)) uid = m.uid
    }
    if (uid === 0) {
      assert.ok(Date.now() < deadline, `${messageId} never reached ${recipient!.username}'s INBOX`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
  const id = encodeMessageId(account.id, { mailbox: 'INBOX', validity, key: String(uid) })
  await waitFor(() => created(id), WAIT_MS, `message.created for the sent message (${id})`)
  const event = events.find(e => e.type === 'message.created' && (e.messageIds ?? []).includes(id))!
  assert.equal(event.accountId, account.id)
})

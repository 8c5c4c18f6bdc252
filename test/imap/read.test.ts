// Mailboxes, paging, filters and message reads against the harness Dovecot.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { AccountContext, MessageKey } from '../../src/mail/backend.ts'
import { GatewayError } from '../../src/mail/errors.ts'
import { directClient, env, mail, mailOfSize, makeBackend, newAccount } from './helpers.ts'

const { backend } = makeBackend()
after(async () => { await backend.close() })

const isCode = (code: string) => (err: unknown) => err instanceof GatewayError && err.code === code

test('mailboxes carry special-use roles, STATUS counts, parents and subscriptions', async () => {
  const { user, ctx } = await newAccount('read-boxes')
  await env.dovecot.deliverMany(user.username, [
    { raw: mail(), flags: ['\\Seen'] },
    { raw: mail() },
    { raw: mail() },
    { raw: mail(), mailbox: 'Sent' },
    { raw: mail(), mailbox: 'Work/Projects' },
  ])
  const boxes = await backend.listMailboxes(ctx)
  const byPath = new Map(boxes.map(b => [b.path, b]))
  const { state, ...inbox } = byPath.get('INBOX') ?? {}
  assert.deepEqual(inbox, { path: 'INBOX', name: 'INBOX', parentPath: null, role: 'inbox', totalEmails: 3, unreadEmails: 2, isSubscribed: true })
  // with CONDSTORE: the STATUS tuple of the mailbox's state (src/backends/imap/changes.ts)
  assert.equal(state?.kind, 'modseq')
  assert.deepEqual(state?.kind === 'modseq' ? [state.state.uidNext, state.state.messages] : null, [4, 3])
  assert.equal(byPath.get('Sent')?.role, 'sent')
  assert.equal(byPath.get('Sent')?.totalEmails, 1)
  assert.equal(byPath.get('Sent')?.unreadEmails, 1)
  for (const [path, role] of [['Drafts', 'drafts'], ['Trash', 'trash'], ['Junk', 'junk'], ['Archive', 'archive']]) {
    assert.equal(byPath.get(path!)?.role, role)
    assert.equal(byPath.get(path!)?.isSubscribed, true)
  }
  const projects = byPath.get('Work/Projects')
  assert.equal(projects?.name, 'Projects')
  assert.equal(projects?.parentPath, 'Work')
  assert.equal(projects?.role, null)
  assert.equal(projects?.totalEmails, 1)
})

test('paging is newest first and new mail between pages neither duplicates nor skips', async () => {
  const { user, ctx } = await newAccount('read-paging')
  const delivered = await env.dovecot.deliverMany(user.username, Array.from({ length: 7 }, (_, i) => ({ raw: mail({ subject: `p${i + 1}` }) })))
  const uids = delivered.map(d => String(d.uid))
  const seen: string[] = []
  const first = await backend.listMessages(ctx, 'INBOX', { limit: 3, filter: {} })
  assert.equal(first.total, 7)
  assert.deepEqual(first.items.map(i => i.key.key), uids.slice(4).reverse())
  assert.deepEqual(first.items.map(i => i.subject), ['p7', 'p6', 'p5'])
  seen.push(...first.items.map(i => i.key.key))
  assert.ok(first.next !== null)

  const fresh = await env.dovecot.deliver(user.username, mail({ subject: 'arrived later' }))
  let page = first
  while (page.next !== null) {
    page = await backend.listMessages(ctx, 'INBOX', { limit: 3, after: page.next, filter: {} })
    assert.equal(page.total, 8, 'total counts the new message')
    seen.push(...page.items.map(i => i.key.key))
  }
  assert.deepEqual(seen, uids.slice().reverse(), 'every message exactly once, in order')
  assert.ok(!seen.includes(String(fresh.uid)))
  const again = await backend.listMessages(ctx, 'INBOX', { limit: 1, filter: {} })
  assert.equal(again.items[0]?.subject, 'arrived later')
})

test('a summary has parsed headers, keywords, INTERNALDATE, size and hasAttachment', async () => {
  const { user, ctx } = await newAccount('read-summary')
  const raw = Buffer.from([
    'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.com>',
    'To: a@example.com, "B, Person" <b@example.com>',
    'Subject: =?UTF-8?B?SGVsbG8gd8O2cmxk?=',
    'Date: Sat, 24 Aug 2024 16:30:00 +0200',
    'Message-ID: <abc@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'hi',
    '--b1',
    'Content-Type: application/pdf; name="r.pdf"',
    'Content-Disposition: attachment; filename="r.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--b1--',
    '',
  ].join('\r\n'))
  const date = new Date('2024-08-24T14:30:07Z')
  await env.dovecot.deliver(user.username, raw, { flags: ['\\Seen', '\\Flagged', 'Work'], date })
  await env.dovecot.deliver(user.username, mail({ subject: 'plain' }))
  const page = await backend.listMessages(ctx, 'INBOX', { limit: 10, filter: {} })
  const s = page.items.find(i => i.messageId === 'abc@example.com')
  assert.ok(s !== undefined)
  assert.equal(s.subject, 'Hello wörld')
  assert.deepEqual(s.from, [{ name: 'Renée', email: 'renee@example.com' }])
  assert.deepEqual(s.to.map(a => a.email), ['a@example.com', 'b@example.com'])
  assert.equal(s.sentAt, '2024-08-24T16:30:00+02:00')
  assert.equal(s.receivedAt, '2024-08-24T14:30:07Z')
  assert.equal(s.size, raw.length)
  assert.deepEqual(s.keywords, ['$flagged', '$seen', 'work'])
  assert.equal(s.hasAttachment, true)
  assert.equal(page.items.find(i => i.subject === 'plain')?.hasAttachment, false)
})

test('filters map to SEARCH; total counts matches; dates are exact instants', async () => {
  const { user, ctx } = await newAccount('read-filters')
  const day = '2024-03-10T'
  await env.dovecot.deliverMany(user.username, [
    { raw: mail({ subject: 'alpha report', from: 'Zed <zed@example.org>' }), date: new Date(`${day}08:00:00Z`), flags: ['\\Seen'] },
    { raw: mail({ subject: 'beta', body: 'the needle is here' }), date: new Date(`${day}12:00:00Z`), flags: ['\\Flagged'] },
    { raw: mail({ subject: 'gamma', to: 'Carol <carol@example.net>' }), date: new Date(`${day}16:00:00Z`) },
    { raw: mail({ subject: 'delta' }), date: new Date('2024-03-12T12:00:00Z'), flags: ['\\Seen'] },
    { raw: mail({ subject: 'gone' }), flags: ['\\Deleted'] },
  ])
  const subjects = async (filter: Parameters<typeof backend.listMessages>[2]['filter']): Promise<[string[], number]> => {
    const page = await backend.listMessages(ctx, 'INBOX', { limit: 50, filter })
    return [page.items.map(i => i.subject ?? ''), page.total]
  }
  assert.deepEqual(await subjects({}), [['delta', 'gamma', 'beta', 'alpha report'], 4], '\\Deleted is not listed')
  assert.deepEqual(await subjects({ unread: true }), [['gamma', 'beta'], 2])
  assert.deepEqual(await subjects({ unread: false }), [['delta', 'alpha report'], 2])
  assert.deepEqual(await subjects({ flagged: true }), [['beta'], 1])
  assert.deepEqual(await subjects({ flagged: false, unread: true }), [['gamma'], 1])
  assert.deepEqual(await subjects({ from: 'zed@example' }), [['alpha report'], 1])
  assert.deepEqual(await subjects({ to: 'carol' }), [['gamma'], 1])
  assert.deepEqual(await subjects({ subject: 'report' }), [['alpha report'], 1])
  assert.deepEqual(await subjects({ text: 'needle' }), [['beta'], 1])
  assert.deepEqual(await subjects({ since: new Date(`${day}10:00:00Z`), before: new Date(`${day}14:00:00Z`) }), [['beta'], 1])
  assert.deepEqual(await subjects({ since: new Date(`${day}12:00:00Z`) }), [['delta', 'gamma', 'beta'], 3])
  assert.deepEqual(await subjects({ before: new Date(`${day}12:00:00Z`) }), [['alpha report'], 1])
  assert.deepEqual(await subjects({ since: new Date(`${day}12:00:01Z`), unread: true }), [['gamma'], 1])
  const paged = await backend.listMessages(ctx, 'INBOX', { limit: 1, filter: { unread: true } })
  assert.equal(paged.total, 2)
  const next = await backend.listMessages(ctx, 'INBOX', { limit: 1, after: paged.next!, filter: { unread: true } })
  assert.deepEqual(next.items.map(i => i.subject), ['beta'])
  assert.equal(next.next, null)
})

test('a missing mailbox is not-found; a cursor from another UIDVALIDITY is stale-id', async () => {
  const { user, ctx } = await newAccount('read-errors')
  await env.dovecot.deliver(user.username, mail())
  await assert.rejects(backend.listMessages(ctx, 'No/Such/Box', { limit: 5, filter: {} }), isCode('not-found'))
  await assert.rejects(backend.listMessages(ctx, 'INBOX', { limit: 5, after: '1:5', filter: {} }), isCode('stale-id'))
  await assert.rejects(backend.listMessages(ctx, 'INBOX', { limit: 5, after: 'garbage', filter: {} }), isCode('bad-request'))
})

test('getMessages reads small and large messages in one batch; a missing UID is null', async () => {
  const { user, ctx } = await newAccount('read-get')
  const big = mail({ subject: 'big', body: ('0123456789abcdefghij'.repeat(50) + '\r\n').repeat(1700) })
  assert.ok(big.length > 1.5 * 1024 * 1024)
  const [a, b, c] = await env.dovecot.deliverMany(user.username, [
    { raw: mail({ subject: 'first', body: 'hello body' }), flags: ['\\Seen'] },
    { raw: big },
    { raw: mail({ subject: 'other box' }), mailbox: 'Archive' },
  ])
  const key = (mailbox: string, d: { uidValidity: number, uid: number }): MessageKey =>
    ({ mailbox, validity: String(d.uidValidity), key: String(d.uid) })
  const keys = [key('INBOX', b!), key('INBOX', { ...a!, uid: 999 }), key('Archive', c!), key('INBOX', a!)]
  const got = await backend.getMessages(ctx, keys)
  assert.equal(got.length, 4)
  assert.equal(got[0]?.subject, 'big')
  assert.equal(got[0]?.size, big.length)
  assert.ok((got[0]?.text?.length ?? 0) > 1_000_000)
  assert.equal(got[1], null)
  assert.equal(got[2]?.subject, 'other box')
  assert.equal(got[3]?.subject, 'first')
  assert.equal(got[3]?.text?.trim(), 'hello body')
  assert.deepEqual(got[3]?.keywords, ['$seen'])
  assert.match(got[3]?.modseq ?? '', /^\d+$/, 'CONDSTORE: the MODSEQ as a decimal string')
  assert.deepEqual(got[3]?.key, keys[3])
  await assert.rejects(backend.getMessages(ctx, [{ ...keys[3]!, validity: '1' }]), isCode('stale-id'))
  const states = await backend.revalidate!(ctx, [keys[3]!, keys[1]!])
  assert.deepEqual(states, [{ keywords: ['$seen'], modseq: got[3]?.modseq }, null])
})

test('getMessages: messages around the first-FETCH prefix (256 KiB) and more UIDs than one FETCH carries arrive whole', async () => {
  const { user, ctx } = await newAccount('read-prefix')
  const sizes = [256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, 700 * 1024, 1024 * 1024 + 5]
  const raws = [...sizes.map((n, i) => mailOfSize(`sized ${i}`, n)), ...Array.from({ length: 40 }, (_, i) => mail({ subject: `small ${i}` }))]
  const delivered = await env.dovecot.deliverMany(user.username, raws.map(raw => ({ raw })))
  const keys = delivered.map(d => ({ mailbox: 'INBOX', validity: String(d.uidValidity), key: String(d.uid) }))
  const got = await backend.getMessages(ctx, keys)
  assert.equal(got.length, raws.length)
  got.forEach((m, i) => {
    assert.equal(m?.size, raws[i]!.length, `size of message ${i}`)
    assert.equal(m?.subject, i < sizes.length ? `sized ${i}` : `small ${i - sizes.length}`)
  })
  // the body text is every line after the header block: a cut prefix would shorten it
  sizes.forEach((n, i) => {
    const body = raws[i]!.subarray(raws[i]!.indexOf('\r\n\r\n') + 4).toString('latin1').replace(/\r\n/g, '\n')
    assert.equal(got[i]?.text?.length, body.length, `text of the ${n}-octet message`)
  })
})

/** A new account holding `count` messages with subjects `${prefix}0`, `${prefix}1`, …, and their keys in that order. */
async function accountWith (name: string, count: number, prefix: string): Promise<{ ctx: AccountContext, keys: MessageKey[] }> {
  const { user, ctx } = await newAccount(name)
  const delivered = await env.dovecot.deliverMany(user.username, Array.from({ length: count }, (_, i) => ({ raw: mail({ subject: `${prefix}${i}` }) })))
  return { ctx, keys: delivered.map(d => ({ mailbox: 'INBOX', validity: String(d.uidValidity), key: String(d.uid) })) }
}

test('concurrent reads of one mailbox share a FETCH; a stale id fails only the read that asked for it', async () => {
  const { backend: one, clients } = makeBackend({ maxPerAccount: 1 })
  try {
    const { ctx, keys } = await accountWith('read-batched', 10, 'b')
    const stale = { ...keys[0]!, validity: String(Number(keys[0]!.validity) + 1) }
    const joinedBefore = one.joinedReads()
    const reads = [...keys.map(k => one.getMessages(ctx, [k])), one.getMessages(ctx, [stale, keys[1]!])]
    const settled = await Promise.allSettled(reads)
    settled.slice(0, 10).forEach((r, i) => {
      assert.equal(r.status, 'fulfilled', `read ${i}`)
      assert.equal(r.status === 'fulfilled' ? r.value[0]?.subject : null, `b${i}`)
    })
    const last = settled[10]!
    assert.ok(last.status === 'rejected' && isCode('stale-id')(last.reason), 'the read with a stale id fails alone')
    assert.ok(one.joinedReads() - joinedBefore >= 5, `${one.joinedReads() - joinedBefore} reads joined a batch`)
    assert.equal(clients.length, 1, 'one connection served them all')
  } finally {
    await one.close()
  }
})

test('one read of more ids than a FETCH carries is read as several batches', async () => {
  const { backend: two, clients } = makeBackend({ maxPerAccount: 2 })
  try {
    const { ctx, keys } = await accountWith('read-split', 40, 'p')
    const got = await two.getMessages(ctx, keys)
    assert.deepEqual(got.map(m => m?.subject), keys.map((_, i) => `p${i}`))
    // 32 + 8 ids: two batches, each with its own lease (and its own share of the parse budget)
    assert.equal(clients.length, 2)
  } finally {
    await two.close()
  }
})

test('reads with other credentials never join a batch: a wrong password fails alone', async () => {
  const { user, ctx } = await newAccount('read-batch-creds')
  const [d] = await env.dovecot.deliverMany(user.username, [{ raw: mail({ subject: 'mine' }) }])
  const key = { mailbox: 'INBOX', validity: String(d!.uidValidity), key: String(d!.uid) }
  const wrong = { ...ctx, settings: { ...ctx.settings, password: 'not-the-password' } }
  const [right, bad] = await Promise.allSettled([backend.getMessages(ctx, [key]), backend.getMessages(wrong, [key])])
  assert.equal(right.status === 'fulfilled' ? right.value[0]?.subject : right.reason, 'mine')
  assert.ok(bad.status === 'rejected' && isCode('auth-failed')(bad.reason))
})

test('a page listed before costs only UID FLAGS: the same summaries, flags and expunges current', async () => {
  const { user, ctx } = await newAccount('read-summary-memo')
  await env.dovecot.deliverMany(user.username, Array.from({ length: 5 }, (_, i) => ({ raw: mail({ subject: `s${i}`, from: `P${i} <p${i}@example.com>` }) })))
  const hitsBefore = backend.summaryHits()
  const first = await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
  assert.equal(backend.summaryHits() - hitsBefore, 0, 'nothing remembered yet')
  const again = await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
  assert.equal(backend.summaryHits() - hitsBefore, 5, 'all five from the memo')
  const shown = (p: typeof first): unknown[] => p.items.map(({ headers: _h, ...rest }) => rest)
  assert.deepEqual(shown(again), shown(first))

  const direct = await directClient(user)
  try {
    const lock = await direct.getMailboxLock('INBOX')
    try {
      await direct.messageFlagsAdd(first.items[0]!.key.key, ['\\Flagged'], { uid: true })
      await direct.messageDelete(first.items[1]!.key.key, { uid: true })
    } finally { lock.release() }
  } finally { await direct.logout() }

  const after = await backend.listMessages(ctx, 'INBOX', { limit: 5, filter: {} })
  assert.deepEqual(after.items.map(i => i.subject), ['s4', 's2', 's1', 's0'], 'the expunged one is gone')
  assert.deepEqual(after.items[0]!.keywords, ['$flagged'], 'flags are current')
  assert.deepEqual(after.items[1]!.keywords, [])
  assert.equal(after.total, 4)
})

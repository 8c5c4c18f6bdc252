/**
 * Mailbox create / rename / move / subscribe / delete through the gateway
 * against the real Dovecot; effects read back with the raw IMAP session.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Mailbox } from '../../src/mail/types.ts'
import { imapMailbox } from '../env/imap-append.ts'
import { imapSession } from '../env/sessions.ts'
import { startGateway, type Gateway } from './gateway.ts'

const quoted = (name: string): string => name.startsWith('"') ? name : `"${name}"`

describe('mailbox management (IMAP)', { timeout: 120_000 }, () => {
  let gw: Gateway
  let user: { username: string, password: string }
  let token: string

  before(async () => {
    gw = await startGateway({ env: { CACHE_MAX_STALENESS_MS: '60000' } })
    user = await gw.env.dovecot.createUser('mbox')
    token = (await gw.login(user)).token
  })
  after(async () => { await gw?.close() })

  const call = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    gw.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) })
  const list = async (): Promise<Mailbox[]> => ((await gw.get('/v1/mailboxes', token)).json() as { items: Mailbox[] }).items
  const byPath = async (path: string): Promise<Mailbox | undefined> => (await list()).find(m => m.path === path)

  /** LIST and LSUB lines of the raw server, names as sent on the wire (always quoted here, as imapMailbox() quotes). */
  async function wireList (): Promise<{ all: string[], subscribed: string[] }> {
    const raw = await imapSession(gw.env.dovecot.ports.imap, user)
    try {
      const all = (await raw.run('LIST "" "*"')).filter(l => l.startsWith('* LIST')).map(l => quoted(l.replace(/^\* LIST \([^)]*\) "[^"]*" /, '')))
      const subscribed = (await raw.run('LSUB "" "*"')).filter(l => l.startsWith('* LSUB')).map(l => quoted(l.replace(/^\* LSUB \([^)]*\) "[^"]*" /, '')))
      return { all, subscribed }
    } finally { raw.close() }
  }

  it('creates a mailbox with a non-ASCII name (modified UTF-7 on the wire), under a parent; a second create → 409', async () => {
    // the list is cached for a minute: the create must show at once all the same
    assert.equal(await byPath('Projekte'), undefined)
    const parent = await call('POST', '/v1/mailboxes', { name: 'Projekte' })
    assert.equal(parent.statusCode, 201, parent.body)
    const name = 'Größe 日本 & co'
    const res = await call('POST', '/v1/mailboxes', { name, parentId: parent.json().id })
    assert.equal(res.statusCode, 201, res.body)
    const created = res.json() as Mailbox
    assert.equal(created.name, name)
    assert.equal(created.path, `Projekte/${name}`)
    assert.equal(created.parentId, parent.json().id)
    const wire = await wireList()
    assert.ok(wire.all.includes(imapMailbox(`Projekte/${name}`)), `${imapMailbox(`Projekte/${name}`)} in ${wire.all.join(', ')}`)
    assert.ok(wire.subscribed.includes(imapMailbox(`Projekte/${name}`)))
    assert.equal((await byPath(`Projekte/${name}`))?.id, created.id)
    const again = await call('POST', '/v1/mailboxes', { name: 'Projekte' })
    assert.equal(again.statusCode, 409, again.body)
    assert.equal(again.json().code, 'already-exists')
  })

  it('a name holding the separator → 400, nothing created', async () => {
    const res = await call('POST', '/v1/mailboxes', { name: 'a/b' })
    assert.equal(res.statusCode, 400, res.body)
    assert.ok(!(await wireList()).all.some(n => n.includes('a/b') || n === '"a"'))
  })

  it('renames and moves: the new id answers, ids under the old path → 404; unsubscribe shows on the wire', async () => {
    const made = (await call('POST', '/v1/mailboxes', { name: 'Old' })).json() as Mailbox
    const child = (await call('POST', '/v1/mailboxes', { name: 'Kid', parentId: made.id })).json() as Mailbox
    await gw.env.dovecot.deliver(user.username, Buffer.from('From: a@example.com\r\nSubject: s\r\n\r\nb\r\n'), { mailbox: 'Old/Kid' })
    const page = (await gw.get(`/v1/mailboxes/${child.id}/messages`, token)).json() as { items: Array<{ id: string }> }
    const oldMessageId = page.items[0]!.id
    // read once, so the message is cached (for a minute) under its old id
    assert.equal((await gw.get(`/v1/messages/${oldMessageId}`, token)).statusCode, 200)
    const res = await call('PATCH', `/v1/mailboxes/${made.id}`, { name: 'Neu', isSubscribed: false })
    assert.equal(res.statusCode, 200, res.body)
    const renamed = res.json() as Mailbox
    assert.equal(renamed.path, 'Neu')
    assert.notEqual(renamed.id, made.id)
    assert.equal(renamed.isSubscribed, false)
    const wire = await wireList()
    assert.ok(wire.all.includes('"Neu"') && wire.all.includes('"Neu/Kid"') && !wire.all.includes('"Old"'), wire.all.join(', '))
    assert.ok(!wire.subscribed.includes('"Neu"'))
    assert.equal((await gw.get(`/v1/mailboxes/${made.id}`, token)).statusCode, 404)
    assert.equal((await gw.get(`/v1/messages/${oldMessageId}`, token)).statusCode, 404)
    // move under Archive
    const archive = (await byPath('Archive'))!
    const moved = await call('PATCH', `/v1/mailboxes/${renamed.id}`, { parentId: archive.id })
    assert.equal(moved.statusCode, 200, moved.body)
    assert.equal((moved.json() as Mailbox).path, 'Archive/Neu')
    assert.ok((await wireList()).all.includes('"Archive/Neu/Kid"'))
  })

  it('INBOX cannot be renamed or deleted (422)', async () => {
    const inbox = (await byPath('INBOX'))!
    assert.equal((await call('PATCH', `/v1/mailboxes/${inbox.id}`, { name: 'Other' })).statusCode, 422)
    assert.equal((await call('DELETE', `/v1/mailboxes/${inbox.id}`)).statusCode, 422)
    assert.ok((await wireList()).all.includes('"INBOX"'))
  })

  it('deletes: a mailbox holding mail → 409 unless force=true; then 204, gone on the wire, its id → 404', async () => {
    const box = (await call('POST', '/v1/mailboxes', { name: 'Bin' })).json() as Mailbox
    await gw.env.dovecot.deliver(user.username, Buffer.from('From: a@example.com\r\nSubject: s\r\n\r\nb\r\n'), { mailbox: 'Bin' })
    const refused = await call('DELETE', `/v1/mailboxes/${box.id}`)
    assert.equal(refused.statusCode, 409, refused.body)
    assert.equal(refused.json().code, 'mailbox-not-empty')
    assert.ok((await wireList()).all.includes('"Bin"'))
    const res = await call('DELETE', `/v1/mailboxes/${box.id}?force=true`)
    assert.equal(res.statusCode, 204, res.body)
    assert.ok(!(await wireList()).all.includes('"Bin"'))
    assert.equal((await gw.get(`/v1/mailboxes/${box.id}`, token)).statusCode, 404)
    const empty = (await call('POST', '/v1/mailboxes', { name: 'Empty' })).json() as Mailbox
    assert.equal((await call('DELETE', `/v1/mailboxes/${empty.id}`)).statusCode, 204)
  })

  it('GraphQL: the same writes as mutations, with the same codes', async () => {
    const gql = async (query: string, variables: Record<string, unknown> = {}) =>
      (await gw.app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${token}` }, payload: { query, variables } })).json() as { data?: any, errors?: Array<{ extensions: { code: string } }> }
    const made = await gql('mutation($n: String!) { createMailbox(input: { name: $n }) { id path isSubscribed } }', { n: 'Ωmega' })
    assert.equal(made.data.createMailbox.path, 'Ωmega')
    assert.ok((await wireList()).all.includes(imapMailbox('Ωmega')))
    const taken = await gql('mutation { createMailbox(input: { name: "Ωmega" }) { id } }')
    assert.equal(taken.errors?.[0]?.extensions.code, 'already-exists')
    const renamed = await gql('mutation($id: ID!) { updateMailbox(id: $id, input: { name: "Alpha" }) { id path } }', { id: made.data.createMailbox.id })
    assert.equal(renamed.data.updateMailbox.path, 'Alpha')
    const raw = 'From: a@example.com\r\nSubject: via graphql\r\n\r\nbody\r\n'
    const appended = await gql('mutation($m: ID!, $raw: String!) { appendMessage(mailboxId: $m, raw: $raw, keywords: ["$seen"]) { id mailboxId } }', { m: renamed.data.updateMailbox.id, raw })
    assert.equal(appended.data.appendMessage.mailboxId, renamed.data.updateMailbox.id)
    assert.equal(typeof appended.data.appendMessage.id, 'string')
    const wire = await imapSession(gw.env.dovecot.ports.imap, user)
    try {
      const status = (await wire.run('STATUS "Alpha" (MESSAGES UNSEEN)')).find(l => l.startsWith('* STATUS'))
      assert.match(status ?? '', /MESSAGES 1 UNSEEN 0/)
    } finally { wire.close() }
    const refused = await gql('mutation($id: ID!) { deleteMailbox(id: $id) }', { id: renamed.data.updateMailbox.id })
    assert.equal(refused.errors?.[0]?.extensions.code, 'mailbox-not-empty')
    const gone = await gql('mutation($id: ID!) { deleteMailbox(id: $id, force: true) }', { id: renamed.data.updateMailbox.id })
    assert.equal(gone.data.deleteMailbox, true)
    assert.ok(!(await wireList()).all.includes('"Alpha"'))
  })
})

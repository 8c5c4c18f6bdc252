/**
 * Property: whatever another client does, a mirror kept only with `changes`
 * ends up equal to the mailbox. A raw IMAP session makes 200 random appends,
 * keyword changes, \Deleted marks and expunges; at random points the mirror
 * polls `changes` (paged with small random limits) and applies them. At the
 * end the mirror — ids and keywords — equals a listing read with the raw
 * session, and the gateway's own listing.
 *
 * Keywords come from the service's `changes` (what watchers turn into
 * `message.updated` events); every page is also asked through REST, which
 * must answer the same ids and states.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Caller } from '../../src/mail/service-types.ts'
import { startGateway, type Gateway } from '../e2e/gateway.ts'
import { imapSession, type ImapSession } from '../env/sessions.ts'
import { mailboxIds, sender, type Send } from '../writes/helpers.ts'
import { append, assertOneListEach, changes, currentState, flagsNow, listingNow, message, ok, uidValidityOf } from './helpers.ts'

/** Deterministic, so a failure can be replayed: SEED=… in the environment. */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const KEYWORDS = ['\\Seen', '\\Flagged', '\\Answered', '$Forwarded', 'todo']

describe('changes property: a mirror kept with changes equals the mailbox', { timeout: 300_000 }, () => {
  let gw: Gateway
  let raw: ImapSession
  let send: Send
  let caller: Caller
  let accountId: string
  let inbox: string

  before(async () => {
    gw = await startGateway()
    const user = await gw.env.dovecot.createUser('changes-prop')
    const login = await gw.login(user)
    accountId = login.account.id
    send = sender(gw, login.token)
    caller = await gw.service.authenticate(login.token)
    raw = await imapSession(gw.env.dovecot.ports.imap, user)
    inbox = (await mailboxIds(send)).get('INBOX')!
  })
  after(async () => {
    raw.close()
    await gw.close()
  })

  it('200 random operations by another client, polled and paged at random', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000)
    const random = rng(seed)
    const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!
    await ok(raw, 'SELECT INBOX')
    for (let i = 0; i < 5; i++) await append(raw, 'INBOX', message(1000 + i))

    const mirror = new Map<string, string[]>()
    let state = await currentState(send, inbox)
    // start from a full listing, as a client would
    for (const [id, keywords] of await listingNow(raw, accountId, 'INBOX', await uidValidityOf(raw, 'INBOX'))) mirror.set(id, keywords)
    let polls = 0
    let pages = 0

    const poll = async (): Promise<void> => {
      polls++
      const limit = random() < 0.3 ? undefined : 1 + Math.floor(random() * 5)
      for (let more = true; more;) {
        pages++
        // nothing changes between the two asks: the other client waits for the poll
        const body = await gw.service.changes(caller, inbox, { since: state, ...(limit === undefined ? {} : { limit }) })
        const rest = await changes(send, inbox, state, limit)
        assert.equal(rest.status, 200, `seed ${seed}: ${JSON.stringify(rest.body)}`)
        const { keywords, ...ids } = body
        assert.deepEqual(rest.body, ids, `seed ${seed}: REST and the service differ`)
        assertOneListEach(body)
        if (limit !== undefined) assert.ok(body.created.length + body.updated.length + body.destroyed.length <= limit, `seed ${seed}`)
        for (const id of body.created) assert.ok(!mirror.has(id), `seed ${seed}: created twice ${id}`)
        for (const id of body.updated) assert.ok(mirror.has(id), `seed ${seed}: updated ${id} never created`)
        for (const id of body.destroyed) mirror.delete(id)
        for (const id of [...body.created, ...body.updated]) {
          assert.ok(keywords?.[id] !== undefined, `seed ${seed}: no keywords for ${id}`)
          mirror.set(id, keywords[id])
        }
        state = body.newState
        more = body.hasMoreChanges
      }
    }

    for (let op = 0; op < 200; op++) {
      const uids = [...(await flagsNow(raw)).keys()]
      const r = random()
      if (r < 0.3 || uids.length === 0) {
        await append(raw, 'INBOX', message(op), random() < 0.3 ? [pick(KEYWORDS)] : [])
      } else if (r < 0.7) {
        const sign = random() < 0.6 ? '+' : '-'
        await ok(raw, `UID STORE ${pick(uids)} ${sign}FLAGS (${pick(KEYWORDS)})`)
      } else if (r < 0.8) {
        await ok(raw, `UID STORE ${pick(uids)} +FLAGS.SILENT (\\Deleted)`)
      } else {
        const uid = pick(uids)
        await ok(raw, `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`)
        await ok(raw, `UID EXPUNGE ${uid}`)
      }
      if (random() < 0.12) await poll()
    }
    await poll()

    const listing = await listingNow(raw, accountId, 'INBOX', await uidValidityOf(raw, 'INBOX'))
    assert.deepEqual(new Map([...mirror].sort()), new Map([...listing].sort()), `seed ${seed}: ids and keywords`)
    assert.ok(polls >= 5 && pages > polls, `seed ${seed}: only ${polls} polls in ${pages} pages`)
  })
})

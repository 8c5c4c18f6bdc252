/**
 * `changes` tests: another mail client's actions through a raw IMAP session
 * (test/env/sessions.ts), and what the mailbox holds read back the same way,
 * never through the gateway's code.
 */
import assert from 'node:assert/strict'
import type { MailboxChanges } from '../../src/mail/changes-types.ts'
import { encodeMessageId } from '../../src/mail/ids.ts'
import type { ImapSession } from '../env/sessions.ts'
import type { Send } from '../writes/helpers.ts'

/** What REST answers: the service's changes without the keywords kept for events. */
export type ChangesBody = Omit<MailboxChanges, 'keywords'>

/** Runs one raw command and requires a tagged OK. */
export async function ok (session: ImapSession, command: string): Promise<string[]> {
  const lines = await session.run(command)
  assert.match(lines.at(-1)!, /^\S+ OK/, `${command.split('\r\n')[0]}: ${lines.join(' | ')}`)
  return lines
}

/** APPEND with a LITERAL+ literal; the new UID from APPENDUID. */
export async function append (session: ImapSession, mailbox: string, raw: Buffer, flags: string[] = []): Promise<number> {
  const lines = await ok(session, `APPEND "${mailbox}" (${flags.join(' ')}) {${raw.length}+}\r\n${raw.toString('latin1')}`)
  const m = /\[APPENDUID \d+ (\d+)\]/.exec(lines.at(-1)!)
  assert.ok(m !== null, lines.join(' | '))
  return Number(m[1])
}

/** The selected mailbox's messages: UID → flags (without \Recent). */
export async function flagsNow (session: ImapSession): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>()
  for (const line of await ok(session, 'UID FETCH 1:* (FLAGS)')) {
    const uid = /UID (\d+)/.exec(line)
    const flags = /FLAGS \(([^)]*)\)/.exec(line)
    if (uid !== null && flags !== null) out.set(Number(uid[1]), flags[1]!.split(' ').filter(f => f !== '' && f !== '\\Recent'))
  }
  return out
}

/** JMAP keywords of IMAP flags, written out here rather than taken from the gateway. */
export function keywordsOfFlags (flags: string[]): string[] {
  const system: Record<string, string> = { '\\seen': '$seen', '\\flagged': '$flagged', '\\answered': '$answered', '\\draft': '$draft' }
  return [...new Set(flags.map(f => f.toLowerCase()).flatMap(f => system[f] ?? (f.startsWith('\\') ? [] : [f])))].sort()
}

/** What a listing shows of the selected mailbox (\Deleted hidden): public id → keywords. */
export async function listingNow (session: ImapSession, accountId: string, mailbox: string, validity: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  for (const [uid, flags] of await flagsNow(session)) {
    if (flags.some(f => f.toLowerCase() === '\\deleted')) continue
    out.set(encodeMessageId(accountId, { mailbox, validity, key: String(uid) }), keywordsOfFlags(flags))
  }
  return out
}

export async function uidValidityOf (session: ImapSession, mailbox: string): Promise<string> {
  const lines = await ok(session, `STATUS "${mailbox}" (UIDVALIDITY)`)
  const m = /UIDVALIDITY (\d+)/.exec(lines.join('\n'))
  assert.ok(m !== null)
  return m[1]!
}

export async function stateOf (send: Send, mailboxId: string): Promise<string> {
  const res = await send('GET', `/v1/mailboxes/${mailboxId}`)
  assert.equal(res.statusCode, 200, res.body)
  const state = (res.json() as { state: string | null }).state
  assert.ok(typeof state === 'string', `no state: ${res.body}`)
  return state
}

/** A state that includes everything up to now: the listed one (up to the staleness bound old) brought up to date with `changes`, as a client would. */
export async function currentState (send: Send, mailboxId: string): Promise<string> {
  return (await allChanges(send, mailboxId, await stateOf(send, mailboxId))).newState
}

export async function changes (send: Send, mailboxId: string, since: string, limit?: number): Promise<{ status: number, body: ChangesBody & { code?: string } }> {
  const res = await send('GET', `/v1/mailboxes/${mailboxId}/changes?since=${encodeURIComponent(since)}${limit === undefined ? '' : `&limit=${limit}`}`)
  return { status: res.statusCode, body: res.json() }
}

/** Every page from `since` (asserting RFC 8620 §5.2 on each): created, updated, destroyed accumulated, and the last newState. */
export async function allChanges (send: Send, mailboxId: string, since: string, limit?: number): Promise<ChangesBody> {
  const total: ChangesBody = { oldState: since, newState: since, hasMoreChanges: true, created: [], updated: [], destroyed: [] }
  for (let pages = 0; total.hasMoreChanges; pages++) {
    assert.ok(pages < 10_000, 'paging never ends')
    const { status, body } = await changes(send, mailboxId, total.newState, limit)
    assert.equal(status, 200, JSON.stringify(body))
    assertOneListEach(body)
    if (limit !== undefined) assert.ok(body.created.length + body.updated.length + body.destroyed.length <= limit)
    total.created.push(...body.created)
    total.updated.push(...body.updated)
    total.destroyed.push(...body.destroyed)
    total.newState = body.newState
    total.hasMoreChanges = body.hasMoreChanges
  }
  return total
}

export function assertOneListEach (body: { created: string[], updated: string[], destroyed: string[] }): void {
  const all = [...body.created, ...body.updated, ...body.destroyed]
  assert.equal(new Set(all).size, all.length, `an id in two lists: ${JSON.stringify(body)}`)
}

export const message = (n: number): Buffer =>
  Buffer.from(`From: a@example.com\r\nTo: b@example.com\r\nSubject: m${n}\r\nMessage-ID: <m${n}.${Math.random().toString(36).slice(2)}@example.com>\r\n\r\nbody ${n}\r\n`)

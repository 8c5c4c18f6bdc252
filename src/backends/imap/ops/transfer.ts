/**
 * Moving and copying messages of one mailbox to another: `UID MOVE` (RFC 6851)
 * or `UID COPY`, one command over the whole UID set. New ids come from
 * COPYUID (UIDPLUS, RFC 4315 §3; for MOVE it may come in an untagged OK).
 *
 * A server without MOVE but with UIDPLUS moves by `UID COPY`, `UID STORE
 * +FLAGS.SILENT (\Deleted)` and `UID EXPUNGE` of the copied UIDs only. With
 * neither, a move is refused: it would need a plain EXPUNGE.
 */
import { encodePath } from 'imapflow/lib/tools.js'
import { GatewayError } from '../../../mail/errors.ts'
import type { MessageKey } from '../../../mail/backend.ts'
import { atom, isRefusal, refusalCode, run, seq } from '../exec.ts'
import { sequenceOf } from '../search.ts'
import type { ImapSession } from '../session.ts'
import { completeRows } from './rows.ts'

/** A uid-set's members in the order written (COPYUID pairs two sets by position). */
function inOrder (set: string): number[] | null {
  const out: number[] = []
  for (const part of set.split(',')) {
    const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(part)
    if (m === null) return null
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    if (Math.abs(b - a) > 100_000) return null
    for (let u = a; a <= b ? u <= b : u >= b; u += a <= b ? 1 : -1) out.push(u)
  }
  return out
}

function copyUidMap (codes: string[][], target: string): Map<number, MessageKey> {
  const map = new Map<number, MessageKey>()
  const code = codes.find(c => c[0]?.toUpperCase() === 'COPYUID')
  if (code === undefined || !/^\d{1,10}$/.test(code[1] ?? '')) return map
  const from = inOrder(code[2] ?? '')
  const to = inOrder(code[3] ?? '')
  if (from === null || to === null || from.length !== to.length) return map
  from.forEach((uid, i) => map.set(uid, { mailbox: target, validity: code[1]!, key: String(to[i]) }))
  return map
}

export type Transferred = Map<number, { key: MessageKey | null } | GatewayError>

export async function transfer (session: ImapSession, uids: number[], target: string, mode: 'move' | 'copy'): Promise<Transferred> {
  const caps = session.client.capabilities
  const uidplus = caps.has('UIDPLUS')
  if (mode === 'move' && !caps.has('MOVE') && !uidplus) {
    throw new GatewayError('unsupported', 'this IMAP server has neither MOVE nor UIDPLUS: a move would need a plain EXPUNGE, which also removes other clients\' deleted messages')
  }
  // without UIDPLUS the server will not say which UIDs it acted on: learn which exist first
  const present = uidplus ? null : new Set((await completeRows(session, uids, new Map())).keys())
  const asked = present === null ? uids : uids.filter(u => present.has(u))
  const placed = new Map<number, MessageKey>()
  if (asked.length > 0) {
    const command = mode === 'move' && caps.has('MOVE') ? 'UID MOVE' : 'UID COPY'
    let answer
    try {
      answer = await run(session, command, [seq(sequenceOf(asked)), atom(encodePath(session.client, target))])
    } catch (err) {
      if (['TRYCREATE', 'NONEXISTENT'].includes(refusalCode(err))) throw new GatewayError('not-found', 'no such target mailbox', { cause: err })
      if (isRefusal(err)) throw new GatewayError('upstream-unavailable', `the mail server refused to ${mode} the message`, { cause: err })
      throw err
    }
    for (const [uid, key] of copyUidMap([answer.code, ...answer.untaggedCodes], target)) placed.set(uid, key)
    if (command === 'UID COPY' && mode === 'move' && placed.size > 0) {
      const copied = sequenceOf([...placed.keys()])
      await run(session, 'UID STORE', [seq(copied), atom('+FLAGS.SILENT'), [atom('\\Deleted')]])
      await run(session, 'UID EXPUNGE', [seq(copied)])
    }
  }
  const out: Transferred = new Map()
  for (const uid of uids) {
    const key = placed.get(uid)
    if (key !== undefined) out.set(uid, { key })
    else if (present?.has(uid) === true) out.set(uid, { key: null })
    else out.set(uid, new GatewayError('not-found', 'no such message in this mailbox'))
  }
  return out
}

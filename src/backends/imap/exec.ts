/**
 * Write commands sent as written, through imapflow's own command queue
 * (`exec`: tagging, literals, one command at a time), not through its
 * convenience methods. Those answer a boolean and swallow the server's refusal
 * (messageFlagsAdd), ignore the `[MODIFIED]` of a conditional STORE (RFC 7162
 * §3.1.3), and fall back to a plain EXPUNGE — every `\Deleted` message of the
 * mailbox, other clients' too — when the server lacks MOVE or UIDPLUS
 * (messageMove, messageDelete). Here every command names its UIDs, and what
 * the server answered comes back: the tagged response code and the untagged
 * FETCH rows (UID, FLAGS, MODSEQ) it sent meanwhile.
 */
import type { ImapFlow } from 'imapflow'
import { GatewayError } from '../../mail/errors.ts'
import type { ImapSession } from './session.ts'

/** imapflow's parsed response node (not part of its published types). */
export interface Node {
  type?: string
  value?: unknown
  section?: Node[]
}

export interface Parsed {
  command?: string
  attributes?: Array<Node | Node[]>
}

interface Exec {
  exec: (command: string, attributes: unknown[], options?: { untagged?: Record<string, (u: Parsed) => Promise<void>> }) => Promise<{ response: Parsed, next: () => void }>
}

/** A row of an untagged FETCH the server sent while the command ran. */
export interface FetchRow {
  uid: number
  flags: string[] | null
  modseq: string | null
}

export interface Answer {
  /** The tagged OK's response code and its arguments, e.g. ['COPYUID', '7', '1:3', '10:12']. */
  code: string[]
  /** Response codes of untagged OKs (RFC 6851 sends COPYUID there for MOVE). */
  untaggedCodes: string[][]
  rows: FetchRow[]
}

const text = (n: Node | Node[] | undefined): string => (n !== undefined && !Array.isArray(n) && typeof n.value === 'string' ? n.value : '')

function codeOf (parsed: Parsed | undefined): string[] {
  const first = parsed?.attributes?.[0]
  const section = first !== undefined && !Array.isArray(first) ? first.section : undefined
  return (section ?? []).map(n => Array.isArray(n) ? '' : String(n.value ?? ''))
}

function rowOf (parsed: Parsed): FetchRow | null {
  const list = parsed.attributes?.[1]
  if (!Array.isArray(list)) return null
  const row: FetchRow = { uid: 0, flags: null, modseq: null }
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = text(list[i]).toUpperCase()
    const value = list[i + 1] as Node | Node[]
    if (name === 'UID') row.uid = Number(text(value))
    else if (name === 'FLAGS' && Array.isArray(value)) row.flags = value.map(f => text(f))
    else if (name === 'MODSEQ' && Array.isArray(value)) row.modseq = /^\d{1,20}$/.test(text(value[0])) ? text(value[0]) : null
  }
  return Number.isSafeInteger(row.uid) && row.uid > 0 ? row : null
}

/** The tagged NO/BAD's response code (e.g. TRYCREATE, CANNOT, OVERQUOTA), upper-case; '' when none. */
export function refusalCode (err: unknown): string {
  const response = (err as { response?: Parsed } | null)?.response
  return (codeOf(response)[0] ?? '').toUpperCase()
}

export function isRefusal (err: unknown): boolean {
  const status = (err as { responseStatus?: unknown } | null)?.responseStatus
  return status === 'NO' || status === 'BAD'
}

export interface RunOptions {
  /** Takes each FETCH row instead of collecting them in `rows` (a long answer kept bounded). */
  onRow?: (row: FetchRow) => void
  /** More untagged responses to handle (e.g. QRESYNC's VANISHED). */
  untagged?: Record<string, (u: Parsed) => Promise<void>>
}

/** Runs one command under the per-command deadline; a NO/BAD rejects with imapflow's error (see refusalCode). */
export async function run (session: ImapSession, command: string, attributes: unknown[], opts: RunOptions = {}): Promise<Answer> {
  const rows: FetchRow[] = []
  const untaggedCodes: string[][] = []
  const onRow = opts.onRow ?? ((row: FetchRow) => { rows.push(row) })
  const client = session.client as ImapFlow & Exec
  if (typeof client.exec !== 'function') throw new GatewayError('internal', 'this imapflow has no exec()')
  const answer = await session.cmd(client.exec(command, attributes, {
    untagged: {
      ...opts.untagged,
      FETCH: async (u) => { const row = rowOf(u); if (row !== null) onRow(row) },
      OK: async (u) => { const code = codeOf(u); if (code.length > 0) untaggedCodes.push(code) },
    },
  }))
  answer.next()
  return { code: codeOf(answer.response), untaggedCodes, rows }
}

/** `[{type:'SEQUENCE'}]` etc.: the attribute shapes imapflow's compiler takes. */
export const seq = (value: string): Node => ({ type: 'SEQUENCE', value })
export const atom = (value: string): Node => ({ type: 'ATOM', value })

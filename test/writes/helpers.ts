/**
 * Writes through the real gateway, their effects read back with the harness's
 * own raw IMAP client (test/env/sessions.ts), never with the gateway's code.
 */
import assert from 'node:assert/strict'
import type { LightMyRequestResponse } from 'fastify'
import { ImapFlow } from 'imapflow'
import type { TestUser } from '../env/dovecot-ops.ts'
import { imapSession, type ImapSession } from '../env/sessions.ts'
import type { Gateway } from '../e2e/gateway.ts'

export const mail = (subject: string): Buffer =>
  Buffer.from(`From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Math.random().toString(36).slice(2)}@example.com>\r\n\r\nbody of ${subject}\r\n`)

export type Send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>) => Promise<LightMyRequestResponse>

export function sender (gw: Gateway, token: string): Send {
  return async (method, url, body, headers = {}) => await gw.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  })
}

/** Mailbox path → id, as the gateway lists them. */
export async function mailboxIds (send: Send): Promise<Map<string, string>> {
  const res = await send('GET', '/v1/mailboxes')
  assert.equal(res.statusCode, 200, res.body)
  return new Map((res.json() as { items: Array<{ id: string, path: string }> }).items.map(m => [m.path, m.id]))
}

/** Subject → message id in one mailbox (first page, up to 200). */
export async function messageIds (send: Send, mailboxId: string): Promise<Map<string, string>> {
  const res = await send('GET', `/v1/mailboxes/${mailboxId}/messages?limit=200`)
  assert.equal(res.statusCode, 200, res.body)
  return new Map((res.json() as { items: Array<{ id: string, subject: string }> }).items.map(m => [m.subject, m.id]))
}

/** An independent raw IMAP session (plain, port 143). */
export async function raw (gw: Gateway, user: TestUser): Promise<ImapSession> {
  return await imapSession(gw.env.dovecot.ports.imap, user)
}

/** UID → flags of every message in `mailbox`, read with the raw client (EXAMINE: changes nothing). */
export async function flagsIn (session: ImapSession, mailbox: string): Promise<Map<number, string[]>> {
  const sel = await session.run(`EXAMINE "${mailbox}"`)
  assert.match(sel.at(-1)!, / OK /, sel.join('\n'))
  const lines = await session.run('UID FETCH 1:* (FLAGS)')
  const out = new Map<number, string[]>()
  for (const line of lines) {
    const m = /^\* \d+ FETCH \((.*)\)$/.exec(line)
    if (m === null) continue
    const uid = /UID (\d+)/.exec(m[1]!)
    const flags = /FLAGS \(([^)]*)\)/.exec(m[1]!)
    // \Recent is session state (RFC 3501 §2.3.2), not something a write sets
    if (uid !== null) out.set(Number(uid[1]), (flags?.[1] ?? '').split(' ').filter(f => f !== '' && f !== '\\Recent'))
  }
  return out
}

/** Subject → UID in `mailbox`, read with the raw client. */
export async function subjectsIn (session: ImapSession, mailbox: string): Promise<Map<string, number>> {
  const sel = await session.run(`EXAMINE "${mailbox}"`)
  assert.match(sel.at(-1)!, / OK /, sel.join('\n'))
  const lines = await session.run('UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
  const out = new Map<string, number>()
  let uid: number | null = null
  for (const line of lines) {
    const u = /^\* \d+ FETCH \(.*UID (\d+)/.exec(line)
    if (u !== null) uid = Number(u[1])
    const s = /^Subject: (.*)$/i.exec(line)
    if (s !== null && uid !== null) out.set(s[1]!.trim(), uid)
  }
  return out
}

/** Counts the gateway's upstream commands by name while `fn` runs (imapflow's one command queue). */
export async function countCommands<T> (fn: () => Promise<T>): Promise<{ result: T, commands: string[] }> {
  const proto = ImapFlow.prototype as unknown as { exec: (command: string, ...rest: unknown[]) => Promise<unknown> }
  const original = proto.exec
  const commands: string[] = []
  proto.exec = function (this: unknown, command: string, ...rest: unknown[]) {
    commands.push(command)
    return original.call(this, command, ...rest)
  }
  try {
    return { result: await fn(), commands }
  } finally {
    proto.exec = original
  }
}

/** A plain IMAP session of the gateway's through another port (a proxy in front of Dovecot). */
export async function loginVia (gw: Gateway, port: number, user: TestUser): Promise<Send> {
  const login = await gw.app.inject({ method: 'POST', url: '/v1/sessions', payload: { protocol: 'imap', host: '127.0.0.1', port, security: 'none', username: user.username, password: user.password } })
  assert.equal(login.statusCode, 201, login.body)
  return sender(gw, (login.json() as { token: string }).token)
}

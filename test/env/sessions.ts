// Raw IMAP/POP3 sessions against the harness Dovecot, for protocol-level assertions in tests.
import type { TestUser } from './dovecot-ops.ts'
import { Wire } from './wire.ts'

export interface ImapSession extends Wire {
  /** Sends `<tag> <cmd>` and returns every reply line, the tagged one last. */
  run: (cmd: string) => Promise<string[]>
}

/** A logged-in plain IMAP session (throws if LOGIN is refused). */
export async function imapSession (port: number, user: TestUser): Promise<ImapSession> {
  const wire = await Wire.open({ port })
  let n = 0
  const run = async (cmd: string): Promise<string[]> => {
    const tag = `t${++n}`
    return await wire.command(`${tag} ${cmd}`, (l) => l.startsWith(tag + ' '))
  }
  try {
    await wire.readLine()
    const reply = (await run(`LOGIN "${user.username}" "${user.password}"`)).at(-1)!
    if (!reply.startsWith('t1 OK')) throw new Error(`LOGIN refused: ${reply}`)
  } catch (err) {
    wire.close()
    throw err
  }
  return Object.assign(wire, { run })
}

/** UID FETCH of one message in the selected mailbox: the response line and the BODY[] bytes. */
export async function fetchRaw (wire: Wire, uid: number): Promise<{ meta: string, body: Buffer }> {
  wire.write(`f UID FETCH ${uid} (FLAGS INTERNALDATE BODY.PEEK[])\r\n`)
  const line = await wire.readLine()
  const m = /\{(\d+)\}$/.exec(line)
  if (m === null) throw new Error(`no literal in: ${line}`)
  const body = await wire.readBytes(Number(m[1]))
  await wire.readUntil((l) => l.startsWith('f '))
  return { meta: line, body }
}

/**
 * USER/PASS over plain POP3; `pass` is the reply to PASS (+OK or -ERR). The session stays
 * open on +OK. Dovecot answers a login to a locked maildrop only after a 10 s lock wait.
 */
export async function pop3Session (port: number, user: TestUser, timeoutMs = 5000): Promise<{ wire: Wire, pass: string }> {
  const wire = await Wire.open({ port, timeoutMs })
  try {
    await wire.readLine()
    await wire.command(`USER ${user.username}`, () => true)
    const [pass] = await wire.command(`PASS ${user.password}`, () => true)
    return { wire, pass: pass! }
  } catch (err) {
    wire.close()
    throw err
  }
}

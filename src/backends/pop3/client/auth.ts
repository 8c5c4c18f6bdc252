/**
 * Logging in (one attempt, never retried): SASL PLAIN when the server offers
 * it, else USER/PASS (RFC 1939 §7); with an access token SASL XOAUTH2 (or
 * OAUTHBEARER, RFC 7628, when only that is offered). SASL follows RFC 5034:
 * the initial response rides on the AUTH line when the line stays within 255
 * octets, otherwise it answers the server's `+` continuation.
 * No credential ever reaches a log line or an error message.
 */
import { GatewayError } from '../../../mail/errors.ts'
import type { Pop3Capabilities } from './capa.ts'
import type { Pop3Connection, Reply } from './connection.ts'
import { errorFor } from './status.ts'

export interface Credentials {
  username: string
  password?: string
  accessToken?: string
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')

function check (reply: Reply, caps: Pop3Capabilities): void {
  if (reply.status.kind !== 'ok') throw errorFor(reply.status, 'auth', caps.loginDelay, caps.respCodes)
}

async function sasl (conn: Pop3Connection, mech: string, initial: string, caps: Pop3Capabilities): Promise<void> {
  const line = `AUTH ${mech} ${initial}`
  let reply: Reply
  if (line.length <= 255) {
    reply = await conn.command(line, { barrier: true, label: `AUTH ${mech}` })
  } else {
    reply = await conn.command(`AUTH ${mech}`, { barrier: true })
    if (reply.status.kind !== 'cont') return check(reply, caps)
    reply = await conn.command(initial, { barrier: true, label: `AUTH ${mech} response` })
  }
  // A challenge after our response is the server's error report (XOAUTH2 sends
  // a JSON status): answer with an empty line to get the final -ERR.
  if (reply.status.kind === 'cont') {
    reply = await conn.command('', { barrier: true, label: `AUTH ${mech} ack` })
    if (reply.status.kind === 'cont') {
      reply = await conn.command('*', { barrier: true, label: `AUTH ${mech} cancel` })
      if (reply.status.kind !== 'err') throw new GatewayError('auth-failed', 'The POP3 server rejected the login')
    }
  }
  check(reply, caps)
}

function saslName (user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

/** Authenticates; throws auth-failed, mailbox-locked, rate-limited, … */
export async function authenticate (conn: Pop3Connection, creds: Credentials, caps: Pop3Capabilities): Promise<string> {
  const { username } = creds
  if (creds.accessToken !== undefined) {
    const token = creds.accessToken
    if (!caps.sasl.includes('XOAUTH2') && caps.sasl.includes('OAUTHBEARER')) {
      await sasl(conn, 'OAUTHBEARER', b64(`n,a=${saslName(username)},\x01auth=Bearer ${token}\x01\x01`), caps)
      return 'OAUTHBEARER'
    }
    await sasl(conn, 'XOAUTH2', b64(`user=${username}\x01auth=Bearer ${token}\x01\x01`), caps)
    return 'XOAUTH2'
  }
  if (creds.password === undefined) throw new GatewayError('bad-request', 'A password or an access token is required')
  if (caps.sasl.includes('PLAIN')) {
    await sasl(conn, 'PLAIN', b64(`\0${username}\0${creds.password}`), caps)
    return 'PLAIN'
  }
  check(await conn.command(`USER ${username}`, { barrier: true, label: 'USER' }), caps)
  check(await conn.command(`PASS ${creds.password}`, { barrier: true, label: 'PASS' }), caps)
  return 'USER'
}

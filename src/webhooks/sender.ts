/**
 * One webhook delivery over HTTP(S), signed per Standard Webhooks
 * (`standardwebhooks`): `webhook-id` (the event id), `webhook-timestamp`
 * (unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` of
 * "id.timestamp.body" under the webhook's secret), over the exact bytes sent.
 *
 * The target is checked at the address actually connected to: the agents'
 * `lookup` runs the host guard (WEBHOOK_ALLOWED_HOSTS) and hands the socket
 * the address it checked, so a name that resolves to a public address at
 * creation and to a private one later (DNS rebinding) is refused. An IP
 * literal never reaches `lookup`, so it is checked before the request.
 * Redirects are not followed (a 3xx is a failure), the whole exchange is
 * bounded by a timeout, and at most 64 KiB of the answer is read.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { isIP } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { GatewayError } from '../mail/errors.ts'
import type { HostGuard } from '../net/host-guard.ts'

export interface SendResult {
  /** The HTTP status, or null when no answer came (refused address, connection error, timeout). */
  status: number | null
  /** Why it failed, for logs: never the body or secret. */
  error?: string
}

export interface Sender {
  send: (target: { url: string, secret: string }, eventId: string, body: string) => Promise<SendResult>
  close: () => void
}

const MAX_ANSWER_BYTES = 64 * 1024

function guardedLookup (guard: HostGuard): LookupFunction {
  return (hostname, options, callback) => {
    guard(hostname).then(
      (target) => {
        if (options.all === true) (callback as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [{ address: target.address, family: target.family }])
        else callback(null, target.address, target.family)
      },
      (err: unknown) => { callback(err as NodeJS.ErrnoException, '', 4) }
    )
  }
}

export function createSender (guard: HostGuard, timeoutMs: number): Sender {
  const lookup = guardedLookup(guard)
  // keep-alive sockets stay on the address that was checked when they connected
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, lookup } as ConstructorParameters<typeof HttpAgent>[0]),
    'https:': new HttpsAgent({ keepAlive: true, lookup } as ConstructorParameters<typeof HttpsAgent>[0]),
  }
  const signers = new Map<string, Webhook>()
  const signerOf = (secret: string): Webhook => {
    let signer = signers.get(secret)
    if (signer === undefined) {
      if (signers.size > 10_000) signers.clear()
      signer = new Webhook(secret)
      signers.set(secret, signer)
    }
    return signer
  }

  async function send (target: { url: string, secret: string }, eventId: string, body: string): Promise<SendResult> {
    const url = new URL(target.url)
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    try {
      if (isIP(host) !== 0) await guard(host)
    } catch (err) {
      return { status: null, error: err instanceof GatewayError ? err.code : 'refused' }
    }
    const now = new Date()
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'mail-gateway-webhooks',
      'webhook-id': eventId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signerOf(target.secret).sign(eventId, now, body),
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:']
    return await new Promise<SendResult>((resolve) => {
      let settled = false
      const done = (result: SendResult): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(result)
      }
      const req = request(url, { method: 'POST', headers, agent, lookup }, (res: IncomingMessage) => {
        let seen = 0
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length
          if (seen > MAX_ANSWER_BYTES) res.destroy()
        })
        res.on('error', () => {})
        res.on('close', () => { done({ status: res.statusCode ?? null }) })
      })
      const timer = setTimeout(() => {
        req.destroy(new Error('timeout'))
        done({ status: null, error: 'timeout' })
      }, timeoutMs)
      req.on('error', (err: Error) => {
        done({ status: null, error: err instanceof GatewayError ? err.code : (err as NodeJS.ErrnoException).code ?? err.message })
      })
      req.end(body)
    })
  }

  return {
    send,
    close: () => { agents['http:'].destroy(); agents['https:'].destroy() },
  }
}

/**
 * The login throttle: session creation (POST /v1/sessions, GraphQL
 * createSession) is rate limited per client address and per target account
 * (host + user name, whatever the port), on by default. Every login the gateway
 * makes comes from its own address, so without this it relays password
 * guessing: a mail server's per-address penalty (Dovecot's auth_penalty) then
 * slows every other tenant's logins, and a guessed account can be locked by its
 * provider.
 *
 * - Each key has a budget of `limit` attempts that refills at `limit` per
 *   `windowMs` (a token bucket). An attempt takes one from both keys before the
 *   login starts, so concurrent attempts count too; one that does not fit is
 *   429 `rate-limited` with Retry-After, and no login is made.
 * - A login that succeeds gives its attempt back: what stays counted is failed
 *   and unfinished logins, so a client that logs in correctly is never slowed.
 * - Keys are hashes, never user names or addresses in clear. The counter is an
 *   interface (AttemptCounter): in process memory now (each instance counts on
 *   its own), a shared store such as Redis can fill it for many instances.
 */
import { createHash } from 'node:crypto'
import { GatewayError } from './errors.ts'
import type { ConnectionSettings } from './types.ts'

export interface AttemptKey {
  key: string
  /** Attempts the key may make per window. */
  limit: number
}

export interface AttemptCounter {
  /** Takes one attempt from every key if each has one left (else none): 0, or ms until each would have one. */
  take: (keys: AttemptKey[], windowMs: number) => Promise<number>
  /** Gives one attempt back to every key. */
  giveBack: (keys: AttemptKey[], windowMs: number) => Promise<void>
}

export interface LoginThrottleLimits {
  /** Attempts per client address per window; 0 = not limited. */
  perClient: number
  /** Attempts per target account (host + user name) per window; 0 = not limited. */
  perAccount: number
  windowMs: number
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleLimits = { perClient: 20, perAccount: 5, windowMs: 15 * 60_000 }

function hashed (...parts: string[]): string {
  return createHash('sha256').update(['login-v1', ...parts].join('\0')).digest('base64url').slice(0, 22)
}

export class LoginThrottle {
  constructor (private readonly counter: AttemptCounter, private readonly limits: LoginThrottleLimits = DEFAULT_LOGIN_THROTTLE) {}

  /** Runs `login` if neither the client nor the account is over its budget. */
  async attempt<T> (client: string, settings: ConnectionSettings, login: () => Promise<T>): Promise<T> {
    const { perClient, perAccount, windowMs } = this.limits
    const keys: AttemptKey[] = []
    if (perClient > 0) keys.push({ key: `c:${hashed(client)}`, limit: perClient })
    // the user name as the server would most likely compare it: case variants share a budget
    if (perAccount > 0) keys.push({ key: `a:${hashed(settings.host.toLowerCase(), settings.username.toLowerCase())}`, limit: perAccount })
    if (keys.length === 0) return await login()
    const waitMs = await this.counter.take(keys, windowMs)
    if (waitMs > 0) {
      throw new GatewayError('rate-limited', 'Too many login attempts from this client or for this account; retry later', { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) })
    }
    const result = await login()
    await this.counter.giveBack(keys, windowMs)
    return result
  }
}

/**
 * Session lifecycle: validate a login request, log in upstream (once, never
 * retried on rejection), seal the result into a token; open and check tokens
 * on every call; revoke them.
 */
import { LRUCache } from 'lru-cache'
import type { LoginOrigin, MailBackend } from './backend.ts'
import { GatewayError } from './errors.ts'
import { accountIdOf } from './ids.ts'
import type { LoginThrottle } from './login-throttle.ts'
import type { Caller, CreateSessionInput, SessionGrant } from './service-types.ts'
import type { TokenClaims, TokenSealer } from './tokens.ts'
import type { MailSender } from './send-port.ts'
import type { Account, Capabilities, ConnectionSettings, Protocol, Security, SmtpSettings } from './types.ts'
import { wireSafe } from './wire-safe.ts'

/**
 * Where revocations live (src/cache). `revoke` resolves only once every
 * instance will see the revocation and rejects otherwise; `isRevoked` rejects
 * when it cannot tell (the shared list is out of reach), and the token is then
 * refused with 503 rather than served unchecked.
 */
export interface RevocationStore {
  revoke: (tokenId: string, expiresAt: number) => Promise<void>
  isRevoked: (tokenId: string) => Promise<boolean>
}

/** Seconds a client is told to wait before repeating a revocation that could not be stored, or a request whose token could not be checked. */
const REVOKE_RETRY_AFTER = 2

const DEFAULT_PORTS: Record<Protocol, Record<Security, number>> = {
  imap: { tls: 993, starttls: 143, none: 143 },
  pop3: { tls: 995, starttls: 110, none: 110 },
}
/** RFC 8314 implicit TLS on 465, RFC 6409 submission (STARTTLS or none) on 587. */
const SMTP_PORTS: Record<Security, number> = { tls: 465, starttls: 587, none: 587 }
const DEFAULT_TTL = 3600

function bad (detail: string): never {
  throw new GatewayError('bad-request', detail)
}

/**
 * The one set of input limits: openapi.yaml's CreateSessionRequest states the
 * same numbers (a contract test compares them) and the GraphQL face calls
 * validateSessionInput itself. They are sized so that any input within them
 * seals into a token the gateway accepts back (tokens.ts MAX_TOKEN_CHARS).
 */
export const SESSION_LIMITS = { host: 255, username: 1024, password: 4096, accessToken: 6144 } as const
const HOST = /^[^\s/?#@\\]+$/
/** JSON-escaped or multi-byte credentials can outgrow the character limits: the sealed size decides. */
const MAX_SETTINGS_BYTES = 7680

function str (value: unknown, name: keyof typeof SESSION_LIMITS): string {
  const max = SESSION_LIMITS[name]
  if (typeof value !== 'string' || value.length === 0 || value.length > max) bad(`${name} must be a string of 1–${max} characters`)
  return wireSafe(name, value as string)
}

/**
 * The service calls this before any login. The GraphQL face calls it up front
 * too, so a malformed input never reaches the service (REST's JSON schema states
 * the same limits).
 */
export function validateSessionInput (input: CreateSessionInput, ttlMax: number): { settings: ConnectionSettings, ttl: number } {
  const protocol = input.protocol
  if (protocol !== 'imap' && protocol !== 'pop3') bad('protocol must be "imap" or "pop3"')
  const security = securityOf(input.security)
  const port = portOf(input.port, DEFAULT_PORTS[protocol][security])
  const ttl = input.ttl ?? Math.min(DEFAULT_TTL, ttlMax)
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > ttlMax) bad(`ttl must be an integer 1–${ttlMax}`)
  const hasPassword = input.password !== undefined
  const hasToken = input.accessToken !== undefined
  if (hasPassword === hasToken) bad('send exactly one of password or accessToken')
  const host = str(input.host, 'host')
  if (!HOST.test(host)) bad('host must be a host name or IP address')
  const settings: ConnectionSettings = {
    protocol,
    host: host.toLowerCase(),
    port,
    security,
    username: str(input.username, 'username'),
  }
  if (hasPassword) settings.password = str(input.password, 'password')
  else settings.accessToken = str(input.accessToken, 'accessToken')
  if (input.smtp !== undefined && input.smtp !== null) settings.smtp = smtpSettings(input.smtp, settings)
  if (Buffer.byteLength(JSON.stringify(settings)) > MAX_SETTINGS_BYTES) bad('the credentials are too long to carry in a session token')
  return { settings, ttl }
}

function securityOf (value: unknown): Security {
  const security = value ?? 'tls'
  if (security !== 'tls' && security !== 'starttls' && security !== 'none') bad('security must be "tls", "starttls" or "none"')
  return security
}

function portOf (value: unknown, fallback: number, field = 'port'): number {
  const port = value ?? fallback
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) bad(`${field} must be an integer 1–65535`)
  return port
}

/** `smtp` of a session request: the submission server, with the session's credentials unless it gives its own. */
function smtpSettings (input: NonNullable<CreateSessionInput['smtp']>, session: ConnectionSettings): SmtpSettings {
  if (typeof input !== 'object' || input === null) bad('smtp must be an object { host, port?, security? }')
  const host = str(input.host, 'host')
  if (!HOST.test(host)) bad('smtp.host must be a host name or IP address')
  const security = securityOf(input.security)
  const smtp: SmtpSettings = {
    host: host.toLowerCase(),
    port: portOf(input.port, SMTP_PORTS[security], 'smtp.port'),
    security,
    username: input.username === undefined ? session.username : str(input.username, 'username'),
  }
  if (input.password !== undefined && input.accessToken !== undefined) bad('send at most one of smtp.password or smtp.accessToken')
  if (input.password !== undefined) smtp.password = str(input.password, 'password')
  else if (input.accessToken !== undefined) smtp.accessToken = str(input.accessToken, 'accessToken')
  else if (session.password !== undefined) smtp.password = session.password
  else if (session.accessToken !== undefined) smtp.accessToken = session.accessToken
  return smtp
}

export function accountOf (settings: ConnectionSettings, capabilities: Capabilities): Account {
  const { protocol, host, port, username } = settings
  return { id: accountIdOf(settings), protocol, host, port, username, capabilities }
}

export class Sessions {
  /**
   * Tokens opened recently (AES-GCM + JSON parse on every request otherwise).
   * Only successfully opened tokens are kept, expiry and revocation are still
   * checked on every call.
   */
  readonly #opened = new LRUCache<string, { claims: TokenClaims, account: Account }>({ max: 5000 })
  readonly #revoked = new Set<(tokenId: string) => void>()

  constructor (
    private readonly backends: Record<Protocol, MailBackend>,
    private readonly sealer: TokenSealer,
    private readonly revocations: RevocationStore,
    private readonly ttlMax: number,
    private readonly throttle: LoginThrottle | null = null,
    private readonly sender: MailSender | null = null
  ) {}

  /** `origin`: who asks (the face's client address), for the login throttle and budgets. */
  async create (input: CreateSessionInput, origin: LoginOrigin = { client: '' }): Promise<SessionGrant> {
    const { settings, ttl } = validateSessionInput(input, this.ttlMax)
    const login = async (): Promise<Capabilities> => {
      const capabilities = await this.backends[settings.protocol].login(settings, origin)
      // the submission server's login is checked the same way, once, before any token exists
      if (settings.smtp === undefined) return { ...capabilities, send: false }
      if (this.sender === null) throw new GatewayError('unsupported', 'this gateway does not send mail')
      await this.sender.verify(settings.smtp, origin)
      return { ...capabilities, send: true }
    }
    const capabilities = this.throttle === null ? await login() : await this.throttle.attempt(origin.client, settings, login)
    const { token, claims } = this.sealer.seal(settings, capabilities, ttl)
    return { token, expiresAt: new Date(claims.exp).toISOString(), account: accountOf(settings, capabilities) }
  }

  async authenticate (token: string): Promise<Caller> {
    let opened = this.#opened.get(token)
    if (opened === undefined) {
      const claims = this.sealer.open(token)
      opened = { claims, account: accountOf(claims.settings, claims.capabilities) }
      this.#opened.set(token, opened)
    } else if (opened.claims.exp <= Date.now()) {
      this.#opened.delete(token)
      throw new GatewayError('unauthorized', 'token expired')
    }
    const { claims, account } = opened
    let revoked: boolean
    try {
      revoked = await this.revocations.isRevoked(claims.jti)
    } catch (err) {
      throw new GatewayError('unavailable', 'revocations cannot be checked right now; repeat the request', { retryAfter: REVOKE_RETRY_AFTER, cause: err })
    }
    if (revoked) throw new GatewayError('unauthorized', 'token revoked')
    return { tokenId: claims.jti, expiresAt: claims.exp, account, ctx: { accountId: account.id, settings: claims.settings } }
  }

  /** Acknowledged only once stored where every instance sees it: else 503, and the client repeats it. */
  async revoke (caller: Caller): Promise<void> {
    try {
      await this.revocations.revoke(caller.tokenId, caller.expiresAt)
    } catch (err) {
      throw new GatewayError('unavailable', 'the revocation could not be stored where every gateway instance sees it; repeat the request', { retryAfter: REVOKE_RETRY_AFTER, cause: err })
    }
    for (const listener of [...this.#revoked]) listener(caller.tokenId)
    await this.backends[caller.account.protocol].release(caller.ctx.settings)
    const smtp = caller.ctx.settings.smtp
    if (smtp !== undefined) await this.sender?.release(caller.account.id, smtp)
  }

  /** Calls `listener` with each token id revoked on this instance (webhooks stop trusting it at once); returns the unsubscribe. */
  onRevoked (listener: (tokenId: string) => void): () => void {
    this.#revoked.add(listener)
    return () => { this.#revoked.delete(listener) }
  }
}

/**
 * nodemailer SMTP transports, dialled at the address the host guard checked
 * (never the name again: no rebinding between check and connect), TLS
 * verified against MAIL_TLS_CA_FILE like IMAP (implicit TLS, or STARTTLS
 * required), SASL PLAIN/LOGIN with a password or XOAUTH2 with an access
 * token. Pooled per account and credential: a few connections each, kept
 * warm between sends, closed when evicted or the session is revoked.
 */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import nodemailer, { type Transporter } from 'nodemailer'
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js'
import type { HostGuard } from '../../net/host-guard.ts'
import { MIN_TLS_VERSION, trustContext } from '../../net/tls-trust.ts'
import type { SmtpSettings } from '../../mail/types.ts'

export type Transport = Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>

export interface TransportOptions {
  guard: HostGuard
  tlsCa: Buffer | null
  timeoutMs: number
  /** Connections per account and credential. */
  maxConnections?: number
  /** Pools kept (least recently used closed first). */
  maxPools?: number
}

/** Pool key: account, server and a digest of the credential (never the credential itself). */
export function poolKey (accountId: string, smtp: SmtpSettings): string {
  const secret = createHash('sha256').update(smtp.password ?? smtp.accessToken ?? '').digest('base64url')
  return [accountId, smtp.host, smtp.port, smtp.security, smtp.username, secret].join('\n')
}

export async function transportOptions (smtp: SmtpSettings, opts: TransportOptions, pool: boolean): Promise<SMTPPool.Options> {
  const target = await opts.guard(smtp.host)
  const isName = target.host !== target.address
  return {
    pool,
    maxConnections: opts.maxConnections ?? 2,
    maxMessages: 100,
    host: target.address,
    port: smtp.port,
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    tls: {
      ...(isName ? { servername: target.host } : {}),
      secureContext: trustContext(opts.tlsCa),
      minVersion: MIN_TLS_VERSION,
      rejectUnauthorized: true,
    },
    auth: smtp.accessToken !== undefined
      ? { type: 'OAuth2', user: smtp.username, accessToken: smtp.accessToken }
      : { user: smtp.username, pass: smtp.password ?? '' },
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
    dnsTimeout: opts.timeoutMs,
    name: 'mail-gateway',
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  }
}

/** What a pooled transport keeps of its connections (nodemailer's SMTPPool and SMTPConnection internals). */
interface PoolInternals {
  _connections?: Array<{ _sending?: boolean, connection?: { _supportedExtensions?: unknown } }>
}

/**
 * Whether the server this pool is sending to offered 8BITMIME in its EHLO
 * answer. nodemailer keeps the EHLO extensions only on its connection
 * objects, so they are read there: asked while a message waits at DATA,
 * every connection sending right now has spoken EHLO to that server. Anything
 * unreadable counts as "not offered", so 8-bit data is never sent on a guess.
 */
export function offers8BitMime (transport: Transport): boolean {
  const pool = transport.transporter as unknown as PoolInternals
  const sending = (pool._connections ?? []).filter(c => c._sending === true && c.connection !== undefined)
  return sending.length > 0 && sending.every(c => {
    const ext = c.connection!._supportedExtensions
    return Array.isArray(ext) && ext.includes('8BITMIME')
  })
}

export class Transports {
  readonly #pools: LRUCache<string, Promise<Transport>>

  constructor (private readonly opts: TransportOptions) {
    this.#pools = new LRUCache<string, Promise<Transport>>({
      max: opts.maxPools ?? 1000,
      dispose: (transport) => { transport.then(t => t.close(), () => {}) },
    })
  }

  /** The pool of these settings, created (host checked) on first use. */
  async get (accountId: string, smtp: SmtpSettings): Promise<Transport> {
    const key = poolKey(accountId, smtp)
    let pool = this.#pools.get(key)
    if (pool === undefined) {
      pool = transportOptions(smtp, this.opts, true).then(o => nodemailer.createTransport(o))
      pool.catch(() => this.#pools.delete(key))
      this.#pools.set(key, pool)
    }
    return await pool
  }

  /** Drops a pool whose connection state is in doubt (a failure mid-send). */
  forget (accountId: string, smtp: SmtpSettings): void {
    this.#pools.delete(poolKey(accountId, smtp))
  }

  release (accountId: string, smtp: SmtpSettings): void {
    this.forget(accountId, smtp)
  }

  close (): void {
    this.#pools.clear()
  }
}

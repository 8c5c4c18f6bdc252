/**
 * Opening one imapflow connection for a session's settings.
 *
 * - The host guard runs before EVERY connection; we connect to the address it
 *   checked, with the caller's host name as TLS servername (none for an IP).
 * - security 'tls' = implicit TLS; 'starttls' = STARTTLS required (a server
 *   that does not offer it fails the login); 'none' = cleartext, STARTTLS is
 *   never attempted (callers who want TLS ask for it explicitly).
 * - Certificates are always verified: Node's root certificates, plus
 *   MAIL_TLS_CA_FILE, in one context shared by every connection (net/tls-trust.ts).
 * - The 'error' listener is attached before connect(): imapflow emits socket
 *   failures there and an unhandled 'error' would crash the process.
 */
import { isIP, type Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import { ImapFlow } from 'imapflow'
import type { ImapFlowOptions, Logger as ImapLogger } from 'imapflow'
import type { Logger } from 'pino'
import type { ConnectionSettings } from '../../mail/types.ts'
import type { HostGuard } from '../../net/host-guard.ts'
import { trustContext } from '../../net/tls-trust.ts'
import { GATEWAY_NAME, GATEWAY_VERSION } from '../../version.ts'
import { withDeadline } from '../deadline.ts'
import { GatewayError } from '../../mail/errors.ts'
import { explainTlsFailure, isHandshakeProtocolError, watchGreeting, type PortTarget } from '../port-sniff.ts'
import { toGatewayError } from './errors.ts'

export interface ConnectDeps {
  guard: HostGuard
  tlsCa: Buffer | null
  /** Connect, greeting and per-command limit (ms). */
  timeoutMs: number
  /** How long a pooled connection may sit idle (ms): the socket timer must outlast it. */
  idleMs: number
  logger?: Logger
  /** Aborted when the backend closes: a login still under way is abandoned, not waited for. */
  signal?: AbortSignal
}

const MiB = 1024 * 1024

/** imapflow's level → ours (null: never logged): its chatty connection details go a level lower. */
const IMAP_LEVELS: Record<string, 'trace' | 'debug' | 'warn' | null> = { trace: null, debug: 'trace', info: 'debug', warn: 'warn', error: 'warn', fatal: 'warn' }

/**
 * imapflow serialises every command and response (FETCH literals included) for
 * its log unless the logger says the level is off: `isLevelEnabled` tells it,
 * so at production levels nothing is built only to be dropped.
 */
/** imapflow's logger shape; its typings omit the `isLevelEnabled` it consults. */
export type ImapLoggerWithLevels = ImapLogger & { isLevelEnabled: (level: string) => boolean }

export function imapLogger (logger: Logger | undefined): ImapLoggerWithLevels | false {
  if (logger === undefined) return false
  const to = (level: string): ((o: unknown) => void) => {
    const ours = IMAP_LEVELS[level] ?? null
    return ours === null ? () => {} : (o: unknown) => { logger[ours](o) }
  }
  return {
    trace: to('trace'),
    debug: to('debug'),
    info: to('info'),
    warn: to('warn'),
    error: to('error'),
    isLevelEnabled: (level: string) => {
      const ours = IMAP_LEVELS[level] ?? null
      return ours !== null && logger.isLevelEnabled(ours)
    },
  }
}

/**
 * The IMAP ID (RFC 2971) the gateway sends: its own name and version. imapflow
 * fills in its own version, vendor and support URL for whatever is not given;
 * an empty value is left out of the command.
 */
export const CLIENT_INFO = { name: GATEWAY_NAME, version: GATEWAY_VERSION, vendor: '', 'support-url': '' }

function tlsOptions (tlsCa: Buffer | null): ConnectionOptions {
  return { rejectUnauthorized: true, secureContext: trustContext(tlsCa) }
}

export async function buildOptions (settings: ConnectionSettings, deps: ConnectDeps): Promise<ImapFlowOptions> {
  const target = await deps.guard(settings.host)
  const auth = settings.accessToken !== undefined
    ? { user: settings.username, accessToken: settings.accessToken }
    : { user: settings.username, pass: settings.password ?? '' }
  return {
    host: target.address,
    port: settings.port,
    servername: isIP(target.host) === 0 ? target.host : undefined,
    secure: settings.security === 'tls',
    doSTARTTLS: settings.security === 'starttls',
    tls: tlsOptions(deps.tlsCa),
    auth,
    logger: imapLogger(deps.logger),
    clientInfo: CLIENT_INFO,
    // ENABLE QRESYNC where offered: `changes` learns expunged UIDs from VANISHED
    // (RFC 7162 §3.2.6), and expunges are reported as VANISHED UIDs, which
    // imapflow handles like EXPUNGE
    qresync: true,
    disableAutoIdle: true,
    connectionTimeout: deps.timeoutMs,
    greetingTimeout: deps.timeoutMs,
    // our own deadline bounds every command; this timer only has to outlast pooled idleness
    socketTimeout: deps.idleMs + deps.timeoutMs,
    // memory guards against a hostile server (imapflow defaults to 1-2 GiB). A line is 8 MiB:
    // a plain SEARCH answer (no ESEARCH) for a mailbox of ~1M messages still fits. No literal
    // we ask for is legitimately large: whole sources only for messages declared ≤ 1 MiB,
    // bigger ones in 256 KiB partial fetches, header blocks (≤ 1 MiB, as much as the normaliser reads).
    maxLiteralSize: 4 * MiB,
    maxLineLength: 8 * MiB,
    maxResponseSize: 16 * MiB,
  }
}

/** A logged-in client, or a GatewayError. `onClose` runs once when the connection ends. */
export async function openImap (settings: ConnectionSettings, deps: ConnectDeps, onClose?: (client: ImapFlow) => void): Promise<ImapFlow> {
  const options = await buildOptions(settings, deps)
  const client = new ImapFlow(options)
  client.on('error', (err: Error) => {
    deps.logger?.debug({ code: (err as { code?: string }).code }, 'imap connection error')
  })
  if (onClose !== undefined) client.once('close', () => onClose(client))
  const abandon = (): void => { client.close() }
  deps.signal?.addEventListener('abort', abandon, { once: true })
  const target: PortTarget = { address: options.host ?? '', port: settings.port, protocol: 'imap', security: settings.security, timeoutMs: deps.timeoutMs }
  let wrongPort: GatewayError | undefined
  try {
    if (deps.signal?.aborted === true) throw new GatewayError('upstream-unavailable', 'the gateway is shutting down')
    // connectionTimeout and greetingTimeout bound the first steps; this bounds the whole login
    const connecting = client.connect()
    // imapflow opens its socket synchronously in connect() (no proxy is configured)
    const socket = (client as unknown as { socket?: Socket }).socket
    if (socket !== undefined) {
      watchGreeting(socket, options.secure === true ? 'secureConnect' : 'connect', target, (err) => {
        wrongPort = err
        client.close()
      })
    }
    await withDeadline(connecting, deps.timeoutMs * 3, () => client.close())
  } catch (err) {
    client.close()
    if (wrongPort !== undefined) throw wrongPort
    if (settings.security === 'tls' && isHandshakeProtocolError(err)) throw (await explainTlsFailure(target)) ?? toGatewayError(err)
    throw toGatewayError(err)
  } finally {
    deps.signal?.removeEventListener('abort', abandon)
  }
  return client
}

/** LOGOUT politely (bounded), then make sure the socket is gone. */
export async function closeImap (client: ImapFlow, timeoutMs: number): Promise<void> {
  try {
    if (client.usable) await withDeadline(client.logout(), Math.min(timeoutMs, 5000))
  } catch {
    // the connection is going away anyway
  } finally {
    client.close()
  }
}

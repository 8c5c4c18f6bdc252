/**
 * The gateway under test, as its users run it: its own process (the compiled
 * dist/server.js, or src/server.ts through tsx with BENCH_TSX=1), production
 * settings, warn-level logging, the opt-in debug stats route enabled. Plus the
 * client calls the scenarios need (login, listing ids, GraphQL, stats).
 */
import { readFileSync } from 'node:fs'
import type { DebugStats } from '../src/debug-stats.ts'
import type { MessagePage } from '../src/mail/types.ts'
import type { BenchEnv, BenchUser } from './env.ts'
import { startNodeServer, type NodeServer } from './procs.ts'

export interface GatewayProc extends NodeServer {
  /** `gc`: a full GC first (needs --expose-gc), so `memory` shows what is live. */
  stats: (reset?: boolean, gc?: boolean) => Promise<DebugStats>
}

function packageConfig (): { nodeArgs?: string, mallocEnv?: string } {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { config?: { nodeArgs?: string, mallocEnv?: string } }
  return pkg.config ?? {}
}

/** The node flags `npm start` and the Docker image run the gateway with (package.json config.nodeArgs). */
export function productionNodeArgs (): string[] {
  return packageConfig().nodeArgs?.split(' ').filter(Boolean) ?? []
}

/** The allocator's environment `npm start` and the Docker image set (package.json config.mallocEnv). */
export function productionEnv (): Record<string, string> {
  const pairs = packageConfig().mallocEnv?.split(' ').filter(Boolean) ?? []
  return Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]))
}

/** `opts.env`: settings for this gateway on top of the production ones (e.g. PARSE_WORKERS). */
export async function startGatewayProc (env: BenchEnv, opts: { redis: boolean, tsx: boolean, nodeArgs?: string[], env?: Record<string, string> }): Promise<GatewayProc> {
  // later flags win: BENCH_GATEWAY_NODE_ARGS can override the production ones
  const extra = process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const args = [...productionNodeArgs(), ...extra, ...(opts.nodeArgs ?? []), ...(opts.tsx ? ['--import', 'tsx', 'src/server.ts'] : ['dist/server.js'])]
  const server = await startNodeServer(args, {
    ...productionEnv(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    GATEWAY_SECRET: 'bench-secret-0123456789abcdef-0123456789',
    MAIL_ALLOWED_HOSTS: '127.0.0.1',
    MAIL_TLS_CA_FILE: env.dovecot.caFile,
    BENCH_EVENT_LOOP_STATS: '1',
    ...(opts.redis ? { REDIS_URL: env.redis.url } : {}),
    ...opts.env,
  })
  return {
    ...server,
    stats: async (reset = false, gc = false) => await (await fetch(`${server.url}/debug/stats?reset=${reset ? 1 : 0}&gc=${gc ? 1 : 0}`)).json() as DebugStats,
  }
}

export interface Session {
  token: string
  auth: Record<string, string>
}

export async function login (base: string, env: BenchEnv, user: BenchUser, protocol: 'imap' | 'pop3'): Promise<Session> {
  const port = protocol === 'imap' ? env.dovecot.ports.imaps : env.dovecot.ports.pop3s
  const res = await fetch(`${base}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ protocol, host: '127.0.0.1', port, security: 'tls', username: user.username, password: user.password }),
  })
  if (res.status !== 201) throw new Error(`login failed: ${res.status} ${await res.text()}`)
  const { token } = await res.json() as { token: string }
  return { token, auth: { authorization: `Bearer ${token}` } }
}

export async function getJson<T> (base: string, path: string, s: Session): Promise<T> {
  const res = await fetch(base + path, { headers: s.auth })
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
  return await res.json() as T
}

/** A JSON write (PATCH, POST); throws on any status but 200/201. */
export async function sendJson<T> (base: string, method: 'PATCH' | 'POST', path: string, s: Session, body: unknown): Promise<T> {
  const res = await fetch(base + path, { method, headers: { ...s.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (res.status !== 200 && res.status !== 201) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return await res.json() as T
}

export async function mailboxId (base: string, s: Session, path: string): Promise<string> {
  const { items } = await getJson<{ items: Array<{ id: string, path: string }> }>(base, '/v1/mailboxes', s)
  const found = items.find(m => m.path === path)
  if (found === undefined) throw new Error(`no mailbox ${path}`)
  return found.id
}

/** One page of a mailbox: the first, or the one after `cursor`. */
export async function listPage (base: string, s: Session, mailbox: string, limit: number, cursor: string | null): Promise<MessagePage> {
  return await getJson<MessagePage>(base, `/v1/mailboxes/${mailbox}/messages?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`, s)
}

/** Every message summary of a mailbox, newest first. */
export async function listAll (base: string, s: Session, mailbox: string): Promise<MessagePage['items']> {
  const items: MessagePage['items'] = []
  let cursor: string | null = null
  do {
    const page: MessagePage = await listPage(base, s, mailbox, 200, cursor)
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}

const ADDRESS = '{ name email }'
export const SUMMARY_FIELDS = `id mailboxId protocol messageId subject from ${ADDRESS} to ${ADDRESS} cc ${ADDRESS} sentAt receivedAt size keywords hasAttachment`
export const BODY_FIELDS = `sender ${ADDRESS} bcc ${ADDRESS} replyTo ${ADDRESS} inReplyTo references preview text html ` +
  'attachments { id filename contentType size disposition contentId url } headers { name value }'

export function pageQuery (mailbox: string, fields: string): string {
  return JSON.stringify({
    query: `query ($mb: ID!) { messages(mailboxId: $mb, first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${fields} } } } }`,
    variables: { mb: mailbox },
  })
}

export async function graphql (base: string, s: Session, body: string): Promise<void> {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { ...s.auth, 'content-type': 'application/json' }, body })
  const json = await res.json() as { errors?: unknown[] }
  if (!res.ok || json.errors !== undefined) throw new Error(`graphql: ${res.status} ${JSON.stringify(json.errors)}`)
}

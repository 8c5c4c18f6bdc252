/**
 * The reads a user of the gateway makes, one function per scenario, each
 * returning a Measured (see load.ts). `Ctx` holds the session and the ids.
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BODY_FIELDS, SUMMARY_FIELDS, getJson, graphql, listPage, pageQuery, sendJson, type Session } from './gateway.ts'
import { cannon, drain, runOps, type Measured } from './load.ts'
import { startNodeServer } from './procs.ts'
import { wrk } from './wrk.ts'

export interface Ctx {
  base: string
  session: Session
  inbox: string
  /** Corpus message ids, newest first. */
  ids: string[]
  /** The ~1 MB message and the 8 MiB attachment's URL. */
  rawId: string
  attachmentId: string
  attachmentUrl: string
  seconds: number
}

const messagePath = (id: string): string => `/v1/messages/${id}`

/** Each id exactly once, in order, `connections` at a time (autocannon: wrk cannot stop at a count). */
export async function readEach (c: Ctx, ids: string[], connections: number): Promise<Measured> {
  return await cannon({ base: c.base, paths: ids.map(messagePath), connections, amount: ids.length, headers: c.session.auth })
}

/** `ids` in rotation for the configured duration. */
export async function readRotating (c: Ctx, ids: string[], connections: number): Promise<Measured> {
  return await wrk({ base: c.base, paths: ids.map(messagePath), connections, seconds: c.seconds, headers: c.session.auth })
}

/**
 * The ceiling: a bare fastify in its own process serving the bytes the gateway
 * sent for `ids`, driven exactly like readRotating.
 */
export async function ceiling (c: Ctx, ids: string[], connections: number): Promise<Measured> {
  const bodies: Record<string, string> = {}
  for (const id of ids) {
    const res = await fetch(c.base + messagePath(id), { headers: c.session.auth })
    bodies[id] = await res.text()
  }
  const file = join(tmpdir(), `mgw-bench-bodies-${process.pid}.json`)
  writeFileSync(file, JSON.stringify(bodies))
  const server = await startNodeServer(['--import', 'tsx', 'bench/ceiling-server.ts'], { NODE_ENV: 'production', CEILING_BODIES: file })
  try {
    const m = await wrk({ base: server.url, paths: ids.map(messagePath), connections, seconds: c.seconds })
    return { ...m, serverPeakRss: server.peakRss() }
  } finally {
    await server.stop()
  }
}

export async function listRest (c: Ctx, connections: number): Promise<Measured> {
  return await wrk({ base: c.base, paths: [`/v1/mailboxes/${c.inbox}/messages?limit=20`], connections, seconds: c.seconds, headers: c.session.auth })
}

/**
 * Every page of `limit` once, in order (each page's cursor comes from the one
 * before): what a first listing costs, before the gateway remembers any summary.
 */
export async function listEveryPage (base: string, session: Session, mailbox: string, limit: number, pages: number): Promise<Measured> {
  let cursor: string | null = null
  return await runOps({
    workers: 1,
    amount: pages,
    op: async () => { cursor = (await listPage(base, session, mailbox, limit, cursor)).nextCursor },
  })
}

export async function listGraphql (c: Ctx, connections: number): Promise<Measured> {
  const body = pageQuery(c.inbox, SUMMARY_FIELDS)
  await graphql(c.base, c.session, body) // throws on GraphQL errors, which wrk would count as 200s
  return await wrk({ base: c.base, paths: ['/graphql'], method: 'POST', body, connections, seconds: c.seconds, headers: c.session.auth })
}

/** A page of 20 with every body field: one GraphQL query. */
export async function pageWithBodiesGraphql (c: Ctx, workers: number): Promise<Measured> {
  const body = pageQuery(c.inbox, `${SUMMARY_FIELDS} ${BODY_FIELDS}`)
  return await runOps({ workers, durationMs: c.seconds * 1000, op: async () => { await graphql(c.base, c.session, body) } })
}

/** The same over REST: the list, then its 20 messages in parallel. */
export async function pageWithBodiesRest (c: Ctx, workers: number): Promise<Measured> {
  return await runOps({
    workers,
    durationMs: c.seconds * 1000,
    op: async () => {
      const page = await getJson<{ items: Array<{ id: string }> }>(c.base, `/v1/mailboxes/${c.inbox}/messages?limit=20`, c.session)
      await Promise.all(page.items.map(async i => { await getJson(c.base, messagePath(i.id), c.session) }))
    },
  })
}

export async function rawDownload (c: Ctx, connections: number): Promise<Measured> {
  return await wrk({ base: c.base, paths: [`${messagePath(c.rawId)}/raw`], connections, seconds: c.seconds, headers: c.session.auth })
}

/** The first GET of the large messages: their parse (streamed for the 8 MiB one). */
export async function largeParse (c: Ctx, ids: string[]): Promise<Measured> {
  return await runOps({ workers: ids.length, amount: ids.length, op: async (i) => { await getJson(c.base, messagePath(ids[i]!), c.session) } })
}

/** `workers` concurrent streamed downloads of the 8 MiB attachment, `amount` in all. */
export async function attachmentDownloads (c: Ctx, workers: number, amount: number, expectBytes: number): Promise<Measured> {
  return await runOps({
    workers,
    amount,
    op: async () => {
      const bytes = await drain(c.base + c.attachmentUrl, c.session.auth)
      if (bytes !== expectBytes) throw new Error(`attachment: ${bytes} bytes, expected ${expectBytes}`)
    },
  })
}

/** Keyword updates of one message each (PATCH, $flagged toggled), over `ids` in rotation. */
export async function keywordUpdates (c: Ctx, ids: string[], workers: number): Promise<Measured> {
  return await runOps({
    workers,
    durationMs: c.seconds * 1000,
    op: async (i) => { await sendJson(c.base, 'PATCH', messagePath(ids[i % ids.length]!), c.session, { keywords: { $flagged: i % 2 === 0 } }) },
  })
}

/** Batches of keyword updates of all `ids` (≤ 1 000) in one request: one UID STORE per mailbox upstream. */
export async function keywordBatches (c: Ctx, ids: string[], workers: number): Promise<Measured> {
  return await runOps({
    workers,
    durationMs: c.seconds * 1000,
    op: async (i) => {
      const { results } = await sendJson<{ results: Array<{ status: number }> }>(c.base, 'POST', '/v1/messages/batch', c.session, { ids, action: 'update', keywords: { $flagged: i % 2 === 0 } })
      if (results.some(r => r.status !== 200)) throw new Error('a keyword update in the batch failed')
    },
  })
}

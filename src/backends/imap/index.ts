/**
 * The IMAP backend (MailBackend over pooled imapflow connections).
 * See README.md for the connection rules and the choices made.
 */
import type { Logger } from 'pino'
import type { MailBackend, MessageKey } from '../../mail/backend.ts'
import type { GroupGate, PoolStats } from '../../pool/index.ts'
import type { HostGuard } from '../../net/host-guard.ts'
import type { LoginObserver } from '../login-outcome.ts'
import { defaultParseBudget, type ByteBudget } from '../../util/byte-budget.ts'
import type { LoginBudget } from '../login-budget.ts'
import { capabilitiesOf } from './capabilities.ts'
import { ImapConnections } from './connections.ts'
import type { ConnectFn } from './connections.ts'
import { FetchBatches } from './fetch-batches.ts'
import { SummaryMemo } from './summary-memo.ts'
import { uidOf } from './get-messages.ts'
import { listMessages } from './list-messages.ts'
import { listMailboxes } from './mailboxes.ts'
import { openRaw } from './open-raw.ts'
import { statesIn } from './revalidate.ts'
import { mailboxValidator } from './validator.ts'
import { changesSince, modseqState } from './changes.ts'
import { imapWriters } from './writers.ts'
import { appendMessage } from './append.ts'
import { imapMailboxWriter } from './mailbox-writer.ts'
import { openWatch } from './watch.ts'

export interface ImapBackendOptions {
  guard: HostGuard
  /** Extra CA bundle (MAIL_TLS_CA_FILE), trusted in addition to the system CAs. */
  tlsCa: Buffer | null
  /** Connect, greeting and per-command limit (ms); a whole operation and a pool wait get 4×. */
  timeoutMs: number
  maxPerAccount: number
  /** maxPerAccount counted across the deployment (Redis slots); absent: per process. */
  gate?: GroupGate
  maxTotal: number
  /** Idle pooled connections are logged out after this (ms, default 60 s; IMAP autologout is ≥ 30 min). */
  idleMs?: number
  /** How long a rejected login is remembered per credential (ms, default 15 s). */
  authFailureTtlMs?: number
  /** A pooled connection is never reused after this long logged in (ms, default 10 min): re-login. */
  maxAgeMs?: number
  logger?: Logger
  /** Replaceable connection factory (tests observe logins through it). */
  connect?: ConnectFn
  /** Told the outcome of every login (metrics). */
  onLogin?: LoginObserver
  /** The process-wide parse budget (PARSE_BUDGET_BYTES); default: the process's one of 64 MiB, shared by both backends. */
  parseBudget?: ByteBudget
  /** Budgets of login attempts for new sessions (LOGIN_CONCURRENCY_*; default DEFAULT_LOGIN_BUDGET). */
  loginBudget?: LoginBudget
  /** Bound of the list-summary memo (bytes, default 2 MiB). */
  summaryMemoBytes?: number
}

export interface ImapBackend extends MailBackend {
  stats: () => PoolStats
  /** Cold reads that joined another read's FETCH since start (fetch-batches.ts). */
  joinedReads: () => number
  /** List items served from the summary memo since start (summary-memo.ts). */
  summaryHits: () => number
}

/** Run `fn` once per mailbox (each on its own lease, in parallel) and put the answers back in key order. */
async function perMailbox<T> (keys: MessageKey[], fn: (path: string, keys: MessageKey[]) => Promise<Map<number, T>>): Promise<Array<T | null>> {
  const groups = new Map<string, MessageKey[]>()
  for (const k of keys) groups.set(k.mailbox, [...(groups.get(k.mailbox) ?? []), k])
  const answers = new Map<string, Map<number, T>>()
  await Promise.all([...groups].map(async ([path, ks]) => { answers.set(path, await fn(path, ks)) }))
  return keys.map(k => {
    const uid = uidOf(k)
    return uid === null ? null : answers.get(k.mailbox)?.get(uid) ?? null
  })
}

export function createImapBackend (opts: ImapBackendOptions): ImapBackend {
  const conns = new ImapConnections({ ...opts, idleMs: opts.idleMs ?? 60_000 })
  const summaries = new SummaryMemo(opts.summaryMemoBytes)
  const batches = new FetchBatches(conns, opts.parseBudget ?? defaultParseBudget())

  return {
    protocol: 'imap',
    // a real login under the login budget (never an idle pooled connection); the connection then joins the pool
    login: (settings, origin) => conns.login(settings, origin?.client ?? '', capabilitiesOf),
    listMailboxes: (ctx) => conns.run(ctx.settings, s => listMailboxes(s)),
    listMessages: (ctx, mailbox, query) => conns.run(ctx.settings, s => listMessages(s, mailbox, query, v => summaries.scope(ctx.accountId, mailbox, v))),
    // concurrent cold reads of one mailbox share a FETCH (fetch-batches.ts)
    getMessages: (ctx, keys) => perMailbox(keys, (path, ks) => batches.read(ctx, path, ks)),
    revalidate: (ctx, keys) => perMailbox(keys, (path, ks) => conns.run(ctx.settings, s => statesIn(s, path, ks))),
    mailboxValidator: (ctx, mailbox) => conns.run(ctx.settings, s => mailboxValidator(s, mailbox)),
    mailboxState: (ctx, mailbox) => conns.run(ctx.settings, async s => {
      const state = await modseqState(s, mailbox)
      return state === null ? null : { kind: 'modseq', state }
    }),
    changesSince: (ctx, mailbox, query) => conns.run(ctx.settings, s => changesSince(s, mailbox, query)),
    openRaw: (ctx, key) => openRaw(conns, ctx.settings, key),
    writers: {
      ...imapWriters(conns),
      appender: { append: (ctx, mailbox, input) => appendMessage(conns, ctx, mailbox, input, opts.timeoutMs) },
      mailboxes: imapMailboxWriter(conns),
    },
    watch: (ctx, listener, watchOpts) => openWatch(conns, opts.timeoutMs, ctx, listener, watchOpts),
    release: (settings) => conns.drain(settings),
    close: () => conns.close(),
    stats: () => conns.stats(),
    joinedReads: () => batches.joined,
    summaryHits: () => summaries.hits,
  }
}

export type { ConnectFn } from './connections.ts'

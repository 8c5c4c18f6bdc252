/**
 * Message writes (contract §7): each reads like its story — resolve the ids
 * inside the caller's account, check what the account can do (422
 * `unsupported` before anything is sent), call the backend's writer, apply
 * the change to what is cached (freshness.ts) before answering, present.
 * A single write is a batch of one: the same per-id path, the same answers.
 */
import type { MailBackend, MessageKey } from './backend.ts'
import { GatewayError } from './errors.ts'
import type { Freshness, KeywordChange } from './freshness.ts'
import { encodeMailboxId, encodeMessageId } from './ids.ts'
import { parseKeywordPatch } from './keywords.ts'
import type { Mailboxes } from './mailboxes.ts'
import { messageRef } from './message-store.ts'
import { messageKey } from './messages.ts'
import type { BatchInput, BatchResult, Caller, KeywordUpdate, KeywordUpdateOptions, Placement } from './service-types.ts'
import type { KeywordOptions, KeywordPatch, KeywordState, MessageRemover, MessageWriter, PerKey, Placed } from './writers.ts'

export const MAX_BATCH_IDS = 1000

/** A message moved to Trash: where it is now, its key there when the server said. */
type Trashed = Placed & { mailbox: string }

type Outcome<T> = T | GatewayError
const failed = (v: unknown): v is GatewayError => v instanceof GatewayError
/** The write may or may not have happened (the connection failed under it): what is cached of it is forgotten. */
const doubtful = (v: unknown): boolean => failed(v) && (v.code === 'upstream-unavailable' || v.code === 'upstream-timeout')

function unwrap<T> (v: Outcome<T> | undefined): T {
  if (v === undefined) throw new GatewayError('internal', 'a writer gave no answer for a message')
  if (failed(v)) throw v
  return v
}

/** `If-Match: "<modseq>"` → the modseq; `*` (any version) → none. */
function conditionOf (caller: Caller, ifMatch: string | undefined): KeywordOptions {
  if (ifMatch === undefined || ifMatch.trim() === '*') return {}
  const m = /^\s*"(\d{1,20})"\s*$/.exec(ifMatch)
  if (m === null) throw new GatewayError('bad-request', 'If-Match must be the message\'s modseq as a strong entity-tag: "<modseq>"')
  if (caller.account.capabilities.condstore !== true) {
    throw new GatewayError('precondition-unavailable', 'this account\'s server has no CONDSTORE, so If-Match cannot be honoured; nothing was changed')
  }
  return { unchangedSince: m[1]! }
}

export class MessageWrites {
  constructor (
    private readonly backendOf: (caller: Caller) => MailBackend,
    private readonly mailboxes: Mailboxes,
    private readonly freshness: Freshness
  ) {}

  #writer (caller: Caller, capability: 'keywords' | 'move' | 'copy', what: string): MessageWriter {
    const writer = this.backendOf(caller).writers?.messages
    if (caller.account.capabilities[capability] !== true || writer === undefined) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts cannot ${what}`)
    }
    return writer
  }

  #remover (caller: Caller): MessageRemover {
    const remover = this.backendOf(caller).writers?.remover
    if (caller.account.capabilities.delete !== true || remover === undefined) {
      throw new GatewayError('unsupported', `${caller.account.protocol.toUpperCase()} accounts cannot delete messages`)
    }
    return remover
  }

  #id (caller: Caller, key: MessageKey): string {
    return encodeMessageId(caller.account.id, key)
  }

  async #keywords (caller: Caller, keys: MessageKey[], patch: KeywordPatch, opts: KeywordOptions = {}): Promise<PerKey<KeywordState>> {
    const results = await this.#writer(caller, 'keywords', 'change keywords').setKeywords(caller.ctx, keys, patch, opts)
    const changed = keys.flatMap((key, i): KeywordChange[] => {
      const r = results[i]
      if (doubtful(r)) return [{ key, state: null }]
      return r === undefined || failed(r) ? [] : [{ key, state: { keywords: r.keywords, modseq: r.modseq } }]
    })
    if (changed.length > 0) await this.freshness.keywordsChanged(caller.ctx, changed)
    return results
  }

  async #transfer (caller: Caller, keys: MessageKey[], target: string, mode: 'move' | 'copy'): Promise<PerKey<Placed>> {
    const writer = this.#writer(caller, mode, `${mode} messages`)
    // moving into its own mailbox is a no-op; a copy there is a real second copy
    const acting = mode === 'move' ? keys.filter(k => k.mailbox !== target) : keys
    const results = acting.length === 0 ? [] : await writer[mode](caller.ctx, acting, target)
    const byKey = new Map(acting.map((k, i) => [k, results[i]]))
    const out = keys.map(k => byKey.has(k) ? unwrapOr(byKey.get(k)) : { key: k })
    const moved = acting.filter((k, i) => results[i] !== undefined && (!failed(results[i]) || (mode === 'move' && doubtful(results[i]))))
    if (mode === 'move' && moved.length > 0) await this.freshness.removed(caller.ctx, moved)
    else if (moved.length > 0) await this.freshness.added(caller.ctx)
    return out
  }

  /** To Trash (placed), or for good (null). No Trash: 422 — never a silent permanent delete. */
  async #delete (caller: Caller, keys: MessageKey[], permanent: boolean): Promise<PerKey<Trashed | null>> {
    const remover = this.#remover(caller)
    let trash: string | null = null
    if (caller.account.capabilities.mailboxes === true && !permanent) {
      trash = (await this.mailboxes.list(caller)).find(m => m.role === 'trash')?.path ?? null
      if (trash === null) throw new GatewayError('unsupported', 'this account has no Trash mailbox: pass permanent=true to delete for good')
    }
    const forGood = keys.filter(k => trash === null || k.mailbox === trash)
    const toTrash = keys.filter(k => trash !== null && k.mailbox !== trash)
    const [removed, trashed] = await Promise.all([
      forGood.length === 0 ? [] : remover.remove(caller.ctx, forGood),
      toTrash.length === 0 || trash === null ? [] : this.#transfer(caller, toTrash, trash, 'move').then(r => r.map(p => failed(p) ? p : { ...p, mailbox: trash })),
    ])
    const gone = forGood.filter((_, i) => removed[i] !== undefined && (!failed(removed[i]) || doubtful(removed[i])))
    if (gone.length > 0) await this.freshness.removed(caller.ctx, gone)
    const answers = new Map<MessageKey, Outcome<Trashed | null> | undefined>([...forGood.map((k, i) => [k, removed[i]] as const), ...toTrash.map((k, i) => [k, trashed[i]] as const)])
    return keys.map(k => unwrapOr(answers.get(k)))
  }

  #placement (caller: Caller, placed: Placed, target: string): Placement {
    return { id: placed.key === null ? null : this.#id(caller, placed.key), mailboxId: encodeMailboxId(caller.account.id, target) }
  }

  async updateKeywords (caller: Caller, messageId: string, keywords: unknown, opts: KeywordUpdateOptions = {}): Promise<KeywordUpdate> {
    const patch = parseKeywordPatch(keywords)
    const key = messageKey(caller, messageId)
    const condition = conditionOf(caller, opts.ifMatch)
    const state = unwrap((await this.#keywords(caller, [key], patch, condition))[0])
    return { id: this.#id(caller, key), ...state }
  }

  async moveMessage (caller: Caller, messageId: string, mailboxId: string): Promise<Placement> {
    return await this.#single(caller, messageId, mailboxId, 'move')
  }

  async copyMessage (caller: Caller, messageId: string, mailboxId: string): Promise<Placement> {
    return await this.#single(caller, messageId, mailboxId, 'copy')
  }

  async #single (caller: Caller, messageId: string, mailboxId: string, mode: 'move' | 'copy'): Promise<Placement> {
    const key = messageKey(caller, messageId)
    const target = this.mailboxes.path(caller, mailboxId)
    return this.#placement(caller, unwrap((await this.#transfer(caller, [key], target, mode))[0]), target)
  }

  async deleteMessage (caller: Caller, messageId: string, opts: { permanent?: boolean } = {}): Promise<Placement | null> {
    const key = messageKey(caller, messageId)
    const placed = unwrap((await this.#delete(caller, [key], opts.permanent === true))[0])
    return placed === null ? null : this.#placement(caller, placed, placed.mailbox)
  }

  /**
   * One result per id, in order. Ids are resolved one by one (a malformed or
   * foreign id fails alone); repeated ids are acted on once and answered alike.
   */
  async batchMessages (caller: Caller, input: BatchInput): Promise<BatchResult[]> {
    const { ids, action } = input
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BATCH_IDS) throw new GatewayError('bad-request', `ids must hold 1–${MAX_BATCH_IDS} message ids`)
    const patch = action === 'update' ? parseKeywordPatch(input.keywords) : null
    const target = action === 'move' || action === 'copy'
      ? this.mailboxes.path(caller, input.mailboxId ?? missing('mailboxId'))
      : null
    const results: BatchResult[] = ids.map(id => ({ id, status: 0 }))
    const unique = new Map<string, MessageKey>()
    const refOf: Array<string | null> = ids.map((id, i) => {
      try {
        const key = messageKey(caller, id)
        const ref = messageRef(caller.account.id, key)
        if (!unique.has(ref)) unique.set(ref, key)
        return ref
      } catch (err) {
        const error = failed(err) ? err : new GatewayError('bad-request', 'malformed message id')
        results[i] = { id, status: error.status, error }
        return null
      }
    })
    const keys = [...unique.values()]
    const answers = new Map<string, BatchResult>()
    const put = (key: MessageKey, r: Omit<BatchResult, 'id'>): void => { answers.set(messageRef(caller.account.id, key), { id: '', ...r }) }
    const error = (key: MessageKey, e: GatewayError): void => put(key, { status: e.status, error: e })
    if (keys.length > 0) {
      if (patch !== null) {
        const states = await this.#keywords(caller, keys, patch)
        keys.forEach((k, i) => { const s = unwrapOr(states[i]); if (failed(s)) error(k, s); else put(k, { status: 200, keywords: s.keywords }) })
      } else if (target !== null && (action === 'move' || action === 'copy')) {
        const placed = await this.#transfer(caller, keys, target, action)
        keys.forEach((k, i) => {
          const p = unwrapOr(placed[i])
          if (failed(p)) error(k, p)
          else put(k, { status: action === 'copy' ? 201 : 200, newId: p.key === null ? null : this.#id(caller, p.key) })
        })
      } else if (action === 'delete') {
        const done = await this.#delete(caller, keys, input.permanent === true)
        keys.forEach((k, i) => {
          const p = unwrapOr(done[i])
          if (failed(p)) error(k, p)
          else if (p === null) put(k, { status: 204 })
          else put(k, { status: 200, newId: p.key === null ? null : this.#id(caller, p.key) })
        })
      } else throw new GatewayError('bad-request', 'action must be update, move, copy or delete')
    }
    return results.map((r, i) => {
      const ref = refOf[i]
      if (ref === null || ref === undefined) return r
      const a = answers.get(ref)
      return a === undefined ? { id: r.id, status: 500, error: new GatewayError('internal', 'no answer') } : { ...a, id: r.id }
    })
  }
}

function unwrapOr<T> (v: Outcome<T> | undefined): Outcome<T> {
  return v === undefined ? new GatewayError('internal', 'a writer gave no answer for a message') : v
}

function missing (field: string): never {
  throw new GatewayError('bad-request', `${field} is required for this action`)
}

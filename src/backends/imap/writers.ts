/**
 * The IMAP writers (src/mail/writers.ts): keys grouped by mailbox, each
 * mailbox's keys acted on with one command per action over their UID set,
 * on a lease of its own with the mailbox SELECTed (write mode), never retried
 * after a drop. Answers are per key: a key of another UIDVALIDITY is
 * `stale-id`, a UID the server does not have `not-found`, and a mailbox that
 * fails fails only its own keys.
 */
import type { AccountContext, MessageKey } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { MailWriters, PerKey } from '../../mail/writers.ts'
import type { ImapConnections } from './connections.ts'
import { toGatewayError } from './errors.ts'
import { uidOf } from './get-messages.ts'
import { expungeUids } from './ops/expunge.ts'
import { storeKeywords } from './ops/store.ts'
import { transfer } from './ops/transfer.ts'
import type { ImapSession } from './session.ts'

type Act<T> = (session: ImapSession, uids: number[]) => Promise<Map<number, T | GatewayError>>

const gone = (): GatewayError => new GatewayError('not-found', 'no such message in this mailbox')

async function perMailbox<T> (conns: ImapConnections, ctx: AccountContext, keys: MessageKey[], act: Act<T>): Promise<PerKey<T>> {
  const groups = new Map<string, MessageKey[]>()
  for (const k of keys) groups.set(k.mailbox, [...(groups.get(k.mailbox) ?? []), k])
  const answers = new Map<MessageKey, T | GatewayError>()
  await Promise.all([...groups].map(async ([path, ks]) => {
    try {
      await conns.run(ctx.settings, s => s.inMailbox(path, async (validity) => {
        const current = ks.filter(k => k.validity === validity && uidOf(k) !== null)
        for (const k of ks) {
          if (k.validity !== validity) answers.set(k, new GatewayError('stale-id', 'the mailbox changed (UIDVALIDITY) since this id was issued'))
          else if (uidOf(k) === null) answers.set(k, gone())
        }
        const uids = [...new Set(current.map(k => uidOf(k)!))]
        const done = uids.length === 0 ? new Map() : await act(s, uids)
        for (const k of current) {
          const uid = uidOf(k)!
          answers.set(k, done.has(uid) ? done.get(uid) as T | GatewayError : gone())
        }
      }, { write: true }), { retry: false })
    } catch (err) {
      const failure = toGatewayError(err)
      for (const k of ks) if (!answers.has(k)) answers.set(k, failure)
    }
  }))
  return keys.map(k => answers.has(k) ? answers.get(k) as T | GatewayError : gone())
}

export function imapWriters (conns: ImapConnections): MailWriters {
  return {
    messages: {
      setKeywords: (ctx, keys, patch, opts) => perMailbox(conns, ctx, keys, (s, uids) => storeKeywords(s, uids, patch, opts)),
      move: (ctx, keys, target) => perMailbox(conns, ctx, keys, (s, uids) => transfer(s, uids, target, 'move')),
      copy: (ctx, keys, target) => perMailbox(conns, ctx, keys, (s, uids) => transfer(s, uids, target, 'copy')),
    },
    remover: {
      remove: (ctx, keys) => perMailbox(conns, ctx, keys, async (s, uids) => {
        const removed = await expungeUids(s, uids)
        return new Map(uids.map(u => [u, removed.has(u) ? null : gone()]))
      }),
    },
  }
}

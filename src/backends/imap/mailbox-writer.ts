/**
 * Mailbox create / rename / move / subscribe / delete on one lease each,
 * never retried after a drop (the server may have acted). The path of a new
 * or renamed mailbox is built here, with the separator the server named in
 * NAMESPACE; a name holding it is refused before anything is sent. imapflow
 * sends names in modified UTF-7 (or UTF-8 under UTF8=ACCEPT).
 */
import type { ImapFlow } from 'imapflow'
import type { AccountContext, MailboxRecord } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { MailboxChange, MailboxWriter } from '../../mail/writers.ts'
import type { ImapConnections } from './connections.ts'
import { toGatewayError } from './errors.ts'
import { listMailboxes } from './mailboxes.ts'
import type { ImapSession } from './session.ts'

/** One lease, one attempt: a write is never repeated after a drop. */
async function once<T> (conns: ImapConnections, ctx: AccountContext, fn: (s: ImapSession) => Promise<T>): Promise<T> {
  const lease = await conns.acquire(ctx.settings)
  try {
    const result = await fn(conns.session(lease))
    conns.settle(lease)
    return result
  } catch (err) {
    conns.settle(lease, err)
    throw toGatewayError(err)
  }
}

function delimiterOf (client: ImapFlow): string {
  return client.namespace?.delimiter ?? '/'
}

function checkName (name: string, delimiter: string): void {
  if (name === '' || name.trim() !== name) throw new GatewayError('bad-request', 'a mailbox name must be non-empty, without leading or trailing spaces')
  if (name.includes(delimiter)) throw new GatewayError('bad-request', `a mailbox name must not hold the hierarchy separator "${delimiter}"`)
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\0-\x1f\x7f*%]/.test(name)) throw new GatewayError('bad-request', 'a mailbox name must not hold control characters, "*" or "%"')
}

async function recordOf (s: ImapSession, path: string): Promise<MailboxRecord> {
  const found = (await listMailboxes(s)).find(m => m.path === path)
  if (found === undefined) throw new GatewayError('not-found', 'no such mailbox')
  return found
}

/** A selected mailbox cannot be renamed or deleted under the lease's feet: close it first. */
async function unselect (s: ImapSession, path: string): Promise<void> {
  const selected = s.client.mailbox
  if (selected !== false && (selected.path === path || selected.path.startsWith(path + delimiterOf(s.client)))) await s.cmd(s.client.mailboxClose())
}

async function rename (s: ImapSession, path: string, change: MailboxChange): Promise<string> {
  const delimiter = delimiterOf(s.client)
  const cut = path.lastIndexOf(delimiter)
  const name = change.name ?? (cut < 0 ? path : path.slice(cut + 1))
  const parent = change.parentPath !== undefined ? change.parentPath : (cut < 0 ? null : path.slice(0, cut))
  if (change.name !== undefined) checkName(name, delimiter)
  const target = parent === null ? name : parent + delimiter + name
  if (target === path) return path
  if (target.startsWith(path + delimiter)) throw new GatewayError('bad-request', 'a mailbox cannot move under itself')
  await unselect(s, path)
  await s.cmd(s.client.mailboxRename(path, target))
  return target
}

export function imapMailboxWriter (conns: ImapConnections): MailboxWriter {
  return {
    create: (ctx, parentPath, name) => once(conns, ctx, async (s) => {
      const delimiter = delimiterOf(s.client)
      checkName(name, delimiter)
      const path = parentPath === null ? name : parentPath + delimiter + name
      const created = await s.cmd(s.client.mailboxCreate(path))
      if (created?.created !== true) throw new GatewayError('already-exists', 'a mailbox of that name already exists')
      return await recordOf(s, path)
    }),

    update: (ctx, path, change) => once(conns, ctx, async (s) => {
      const target = change.name !== undefined || change.parentPath !== undefined ? await rename(s, path, change) : path
      if (change.isSubscribed === true) await s.cmd(s.client.mailboxSubscribe(target))
      if (change.isSubscribed === false) await s.cmd(s.client.mailboxUnsubscribe(target))
      return await recordOf(s, target)
    }),

    remove: (ctx, path, { force }) => once(conns, ctx, async (s) => {
      if (!force) {
        const status = await s.cmd(s.client.status(path, { messages: true }))
        if (status === false) throw new GatewayError('not-found', 'no such mailbox')
        const count = status.messages ?? 0
        if (count > 0) throw new GatewayError('mailbox-not-empty', `the mailbox holds ${count} messages: pass force=true to delete it with them`)
      }
      await unselect(s, path)
      await s.cmd(s.client.mailboxDelete(path))
    }),
  }
}

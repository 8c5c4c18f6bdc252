/**
 * openRaw: the lease (and the mailbox lock inside it) is held by the stream
 * until it ends or is destroyed. Before the first byte goes back to the
 * caller, a dropped connection is retried once on a new one.
 */
import type { MessageKey, RawSource } from '../../mail/backend.ts'
import { GatewayError } from '../../mail/errors.ts'
import type { ConnectionSettings } from '../../mail/types.ts'
import type { ImapConnections } from './connections.ts'
import { isConnectionDrop, toGatewayError } from './errors.ts'
import { checkValidity, uidOf } from './get-messages.ts'
import { RAW_CHUNK, RawMessageStream, fetchChunk } from './raw-stream.ts'

export async function openRaw (conns: ImapConnections, settings: ConnectionSettings, key: MessageKey): Promise<RawSource> {
  const uid = uidOf(key)
  if (uid === null) throw new GatewayError('not-found', 'no such message')
  for (let attempt = 0; ; attempt++) {
    const lease = await conns.acquire(settings, attempt > 0)
    const session = conns.session(lease)
    let unlock: (() => void) | null = null
    try {
      // By UID, as get-messages reads: no NOOP first; only a UID this connection
      // does not know yet makes it sync and ask again.
      const lock = await session.lockMailbox(key.mailbox, { sync: false })
      unlock = lock.release
      checkValidity([key], lock.validity)
      let first = await fetchChunk(session, uid, 0, RAW_CHUNK)
      if (first === null) {
        await session.sync()
        first = await fetchChunk(session, uid, 0, RAW_CHUNK)
      }
      if (first === null) throw new GatewayError('not-found', 'no such message')
      const release = lock.release
      const stream = new RawMessageStream(session, uid, first.data, first.size, (clean) => {
        release()
        conns.settle(lease, clean ? undefined : new GatewayError('upstream-unavailable'))
      })
      return { stream, size: first.size }
    } catch (err) {
      unlock?.()
      conns.settle(lease, err)
      if (attempt === 0 && isConnectionDrop(err)) continue
      throw toGatewayError(err)
    }
  }
}

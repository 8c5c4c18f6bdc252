/**
 * Our own time limits on top of the protocol clients' inactivity timers (a server
 * that keeps dripping bytes never trips those): a command, or a whole operation,
 * that does not settle in time rejects with 'upstream-timeout', and `onTimeout`
 * closes the connection it was running on (its state is unknown). Both backends.
 */
import { GatewayError } from '../mail/errors.ts'

export async function withDeadline<T> (work: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      try { onTimeout?.() } catch { /* closing is best effort */ }
      reject(new GatewayError('upstream-timeout', 'the mail server did not answer in time'))
    }, ms)
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
    // the losing promise may still reject later: never let that become unhandled
    work.catch(() => {})
  }
}

/**
 * Upstream logins as the operator sees them: each attempt to open an
 * authenticated session (connect, greeting, TLS, authentication) ends `ok` or
 * with a code of the error catalogue (`auth-failed`, `upstream-timeout`, …),
 * a bounded set fit for a metric label.
 */
import { isGatewayError } from '../mail/errors.ts'

export type LoginObserver = (outcome: string) => void

/** `attempt`, reporting its outcome to `observe` (when given). */
export async function observeLogin<T> (observe: LoginObserver | undefined, attempt: Promise<T>): Promise<T> {
  if (observe === undefined) return await attempt
  try {
    const opened = await attempt
    observe('ok')
    return opened
  } catch (err) {
    observe(isGatewayError(err) ? err.code : 'internal')
    throw err
  }
}

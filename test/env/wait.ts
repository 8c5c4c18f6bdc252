/** Polls until `cond` holds: waiting for a state the code reaches, never for a duration. */
import { setTimeout as sleep } from 'node:timers/promises'

export async function waitFor (cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

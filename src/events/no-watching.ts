/**
 * The `Watching` seam (src/mail/watch-port.ts) before the IMAP watchers are
 * composed: handles are granted and released, nothing is watched, so event
 * streams carry only what is published on the bus. src/compose.ts swaps in
 * the real watchers.
 */
import type { WatchHandle, Watching } from '../mail/watch-port.ts'

const inert: WatchHandle = { release: () => {} }

export const noWatching: Watching = {
  acquire: async () => inert,
  close: async () => {},
}

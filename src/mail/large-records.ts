/**
 * Large messages are handled in several turns of the event loop, not one.
 *
 * After a large message is parsed, its record is serialised twice (the shared
 * cache entry and the response), each a few milliseconds per megabyte of body
 * text, and these steps follow each other as promise continuations: without a
 * macrotask boundary between them, two large reads at once held the event loop
 * for 40–60 ms. Each step that serialises a large record first waits for the
 * loop's next turn, so other requests are served in between.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { MessageRecord } from './backend.ts'

/** Characters of body text (text + HTML) from which a record counts as large. */
export const LARGE_RECORD_CHARS = 256 * 1024

export function isLargeRecord (r: Pick<MessageRecord, 'text' | 'html'>): boolean {
  return (r.text?.length ?? 0) + (r.html?.length ?? 0) >= LARGE_RECORD_CHARS
}

/** Resolves on the event loop's next turn for a large record, at once otherwise. */
export async function turnBeforeLarge (r: Pick<MessageRecord, 'text' | 'html'>): Promise<void> {
  if (isLargeRecord(r)) await nextTurn()
}

/**
 * What a list page shows of a message, minus its flags and modseq, remembered per message.
 *
 * At (account, mailbox, UIDVALIDITY, UID) a message never changes (RFC 3501
 * §2.3.1.1): its header fields, INTERNALDATE, RFC822.SIZE and BODYSTRUCTURE are
 * fixed. Only its flags move, and whether it still exists. So a page whose
 * messages were listed before asks the server for `UID FLAGS` alone, which also
 * shows which of them are gone; the costly part of a page (BODYSTRUCTURE and the
 * header block, parsed by imapflow and the normaliser) is done once per message.
 *
 * In process, bounded in bytes, keyed by the account id (content is the same
 * whatever credential reached it, and a caller only gets here logged in).
 */
import { LRUCache } from 'lru-cache'
import type { SummaryRecord } from '../../mail/backend.ts'

/** A summary without what changes or is per request (list-messages.ts leaves out the raw header list). */
export type FixedSummary = Omit<SummaryRecord, 'key' | 'keywords' | 'modseq'>

export const DEFAULT_SUMMARY_MEMO_BYTES = 2 * 1024 * 1024

function approxBytes (s: FixedSummary): number {
  let n = 256
  for (const v of Object.values(s)) {
    if (typeof v === 'string') n += 2 * v.length
    else if (Array.isArray(v)) n += 96 * v.length + 2 * JSON.stringify(v).length
  }
  return n
}

export class SummaryMemo {
  readonly #lru: LRUCache<string, FixedSummary>
  /** Summaries served from the memo since start (for tests and stats). */
  hits = 0

  constructor (maxBytes = DEFAULT_SUMMARY_MEMO_BYTES) {
    this.#lru = new LRUCache<string, FixedSummary>({ maxSize: Math.max(1024, maxBytes), sizeCalculation: approxBytes })
  }

  /** The memo of one mailbox view: its UIDs mean the same messages while UIDVALIDITY holds. */
  scope (accountId: string, path: string, validity: string): MailboxMemo {
    const prefix = `${accountId}\0${path}\0${validity}\0`
    return {
      get: (uid) => {
        const hit = this.#lru.get(prefix + String(uid))
        if (hit !== undefined) this.hits++
        return hit
      },
      set: (uid, summary) => {
        const { key: _key, keywords: _keywords, modseq: _modseq, ...fixed } = summary
        this.#lru.set(prefix + String(uid), fixed)
      },
    }
  }
}

export interface MailboxMemo {
  get: (uid: number) => FixedSummary | undefined
  set: (uid: number, summary: SummaryRecord) => void
}

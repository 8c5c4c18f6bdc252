/**
 * The gateway's own metrics, beyond HTTP requests (http.ts): upstream logins and
 * open connections by protocol, the message cache's outcomes, and the parse
 * budget in use. Wired by the composition root (src/compose.ts), which knows
 * the pieces; each value is read from its owner when scraped, or counted by a
 * callback the owner is given.
 */
import type { LoginObserver } from '../backends/login-outcome.ts'
import type { ReaderStats } from '../mail/message-reader.ts'
import type { BudgetStats } from '../util/byte-budget.ts'
import type { MetricsPort } from './port.ts'

export type Protocol = 'imap' | 'pop3'

/** One login observer per protocol, all counting into `mailgw_upstream_logins_total`. */
export function loginObservers (metrics: MetricsPort): Record<Protocol, LoginObserver> {
  const logins = metrics.counter({
    name: 'upstream_logins_total',
    help: 'Logins to mail servers (connect, TLS, authentication) by protocol and outcome: ok or the error code.',
    labels: ['protocol', 'outcome'],
  })
  return {
    imap: (outcome) => logins.inc({ protocol: 'imap', outcome }),
    pop3: (outcome) => logins.inc({ protocol: 'pop3', outcome }),
  }
}

export interface SampledSources {
  connections: () => Record<Protocol, number>
  reader: () => ReaderStats
  budget: () => BudgetStats
}

export function registerSampled (metrics: MetricsPort, sources: SampledSources): void {
  metrics.sampled({
    name: 'upstream_connections',
    help: 'Logged-in connections to mail servers now (IMAP: pooled, busy or idle; POP3: one session per maildrop).',
    labels: ['protocol'],
    kind: 'gauge',
  }, () => Object.entries(sources.connections()).map(([protocol, n]) => [{ protocol }, n] as const))
  metrics.sampled({
    name: 'message_cache_reads_total',
    help: 'Message reads by cache outcome: hit (served from cache), revalidated (cached, flags rechecked upstream), miss (fetched and parsed).',
    labels: ['outcome'],
    kind: 'counter',
  }, () => {
    const s = sources.reader()
    return [[{ outcome: 'hit' }, s.hits], [{ outcome: 'revalidated' }, s.revalidated], [{ outcome: 'miss' }, s.misses]]
  })
  metrics.sampled({
    name: 'parse_budget_bytes',
    help: 'The parse budget (PARSE_BUDGET_BYTES): message octets being read and parsed now (state="in_use") and its size (state="capacity").',
    labels: ['state'],
    kind: 'gauge',
  }, () => {
    const b = sources.budget()
    return [[{ state: 'in_use' }, b.capacity - b.available], [{ state: 'capacity' }, b.capacity]]
  })
  metrics.sampled({
    name: 'parse_budget_waiting',
    help: 'Reads waiting for the parse budget now.',
    labels: [],
    kind: 'gauge',
  }, () => [[{}, sources.budget().waiting]])
}

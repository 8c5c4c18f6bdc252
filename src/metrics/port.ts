/**
 * The metrics port: what the rest of the gateway calls to count, time and
 * expose values, without knowing the exporter. The core and the backends take a
 * MetricsPort (or a callback made from one) as an option; only
 * src/metrics/prometheus.ts knows prom-client, and src/server.ts decides
 * whether metrics are on (METRICS_TOKEN, METRICS_PORT). With them off, every
 * call goes to `noMetrics` and costs nothing.
 *
 * Names are given without the exporter's prefix (`mailgw_`). Label values must
 * come from a bounded set: route patterns, protocols, outcomes from the error
 * catalogue; never a URL, a host, an account or a message id.
 */

export type Labels<L extends string> = Readonly<Record<L, string>>

export interface MetricDef<L extends string> {
  /** snake_case, without the prefix; counters end in `_total`, durations in `_seconds`. */
  name: string
  help: string
  labels: readonly L[]
}

export interface CounterPort<L extends string> {
  inc: (labels: Labels<L>, by?: number) => void
}

export interface HistogramPort<L extends string> {
  observe: (labels: Labels<L>, value: number) => void
}

/** Samples of a value read at each scrape. */
export type Samples<L extends string> = Array<readonly [Labels<L>, number]>

export interface MetricsPort {
  counter: <L extends string>(def: MetricDef<L>) => CounterPort<L>
  histogram: <L extends string>(def: MetricDef<L> & { buckets: readonly number[] }) => HistogramPort<L>
  /**
   * A value that lives elsewhere, read when metrics are scraped: a gauge (in
   * use, open, waiting) or a counter kept by its owner (a monotonic total).
   */
  sampled: <L extends string>(def: MetricDef<L> & { kind: 'gauge' | 'counter' }, read: () => Samples<L>) => void
}

export const noMetrics: MetricsPort = {
  counter: () => ({ inc: () => {} }),
  histogram: () => ({ observe: () => {} }),
  sampled: () => {},
}

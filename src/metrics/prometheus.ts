/**
 * The MetricsPort over prom-client: one registry per process (per app in
 * tests), every name prefixed `mailgw_`, Node's default process metrics
 * (CPU, memory, event-loop lag, GC) under the same prefix.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CounterPort, HistogramPort, Labels, MetricDef, MetricsPort, Samples } from './port.ts'

export const METRIC_PREFIX = 'mailgw_'

export class PrometheusMetrics implements MetricsPort {
  readonly registry = new Registry()

  constructor (opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX })
  }

  counter<L extends string> (def: MetricDef<L>): CounterPort<L> {
    const c = new Counter<L>({ ...this.base(def) })
    return { inc: (labels, by = 1) => c.inc(labels as Labels<L>, by) }
  }

  histogram<L extends string> (def: MetricDef<L> & { buckets: readonly number[] }): HistogramPort<L> {
    const h = new Histogram<L>({ ...this.base(def), buckets: [...def.buckets] })
    return { observe: (labels, value) => h.observe(labels as Labels<L>, value) }
  }

  sampled<L extends string> (def: MetricDef<L> & { kind: 'gauge' | 'counter' }, read: () => Samples<L>): void {
    if (def.kind === 'gauge') {
      // eslint-disable-next-line no-new -- registered on construction
      new Gauge<L>({
        ...this.base(def),
        collect () {
          this.reset()
          for (const [labels, value] of read()) this.set(labels, value)
        },
      })
    } else {
      // eslint-disable-next-line no-new -- registered on construction
      new Counter<L>({
        ...this.base(def),
        collect () {
          this.reset()
          for (const [labels, value] of read()) this.inc(labels, value)
        },
      })
    }
  }

  /** The exposition text (Prometheus text format 0.0.4) and its content type. */
  async scrape (): Promise<{ contentType: string, body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }

  private base<L extends string> (def: MetricDef<L>): { name: string, help: string, labelNames: L[], registers: Registry[] } {
    if (!/^[a-z][a-z0-9_]*$/.test(def.name)) throw new Error(`metric name "${def.name}" is not snake_case`)
    return { name: METRIC_PREFIX + def.name, help: def.help, labelNames: [...def.labels], registers: [this.registry] }
  }
}

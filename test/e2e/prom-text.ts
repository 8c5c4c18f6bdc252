/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written for
 * the tests from the format's description, independent of prom-client (the
 * npm parser tried first dropped a histogram's labels). Any line it cannot
 * read, a sample before its family's TYPE, a TYPE given twice or a repeated
 * label set throws.
 */

export interface PromSample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface PromFamily {
  name: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  help: string
  samples: PromSample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`)
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] }

/** Floats as Prometheus reads them (Go's ParseFloat: Inf and NaN in any case; prom-client writes "Nan"). */
function parseValue (raw: string, line: string): number {
  if (/^\+?inf$/i.test(raw)) return Infinity
  if (/^-inf$/i.test(raw)) return -Infinity
  if (/^nan$/i.test(raw)) return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`bad value in: ${line}`)
  return Number(raw)
}

function parseLabels (raw: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = raw
  while (rest.length > 0) {
    const m = LABEL.exec(rest)
    if (m === null) throw new Error(`bad labels in: ${line}`)
    const [whole, key = '', escaped = ''] = m
    if (key in labels) throw new Error(`label ${key} twice in: ${line}`)
    labels[key] = escaped.replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
    rest = rest.slice(whole.length)
  }
  return labels
}

export function parsePromText (text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>()
  const seen = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta
      const family = families.get(name) ?? { name, type: 'untyped' as const, help: '', samples: [] }
      if (kind === 'HELP') family.help = rest
      else {
        if (!TYPES.has(rest) || family.samples.length > 0 || seen.has(`type ${name}`)) throw new Error(`bad TYPE: ${line}`)
        seen.add(`type ${name}`)
        family.type = rest as PromFamily['type']
      }
      families.set(name, family)
      continue
    }
    if (line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (m === null) throw new Error(`unreadable line: ${line}`)
    const [, name = '', rawLabels = '', rawValue = ''] = m
    const family = [...families.values()].find(f => (SUFFIXES[f.type] ?? ['']).some(s => f.name + s === name))
    if (family === undefined) throw new Error(`sample before its TYPE: ${line}`)
    const labels = parseLabels(rawLabels, line)
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (seen.has(id)) throw new Error(`sample repeated: ${line}`)
    seen.add(id)
    family.samples.push({ name, labels, value: parseValue(rawValue, line) })
  }
  return families
}

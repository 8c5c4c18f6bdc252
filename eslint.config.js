import neostandard from 'neostandard'

const frameworks = ['fastify', '@fastify/*', 'mercurius', 'imapflow', 'ioredis', 'prom-client']

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] }),
  {
    // Dependencies point one way: the core knows no face, protocol library, store or exporter.
    files: ['src/mail/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: frameworks, message: 'src/mail is protocol-neutral: take a port instead' }] }] },
  },
  {
    // Metrics go through src/metrics/port.ts; only src/metrics/prometheus.ts knows the exporter.
    files: ['src/**/*.ts'],
    ignores: ['src/metrics/prometheus.ts', 'src/mail/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['prom-client'], message: 'use the MetricsPort (src/metrics/port.ts)' }] }] },
  },
]

/**
 * The native load generator: wrk (C, epoll), one thread, driven for a duration
 * with a Lua script that rotates the paths and sets the headers (and the body
 * of a POST). A Node load generator (autocannon) on the same two cores needs
 * about as much CPU as a bare fastify and caps what it measures; wrk needs a
 * fraction of that. Each run also reports the generator's own CPU: utime +
 * stime from /proc/<pid>/stat between the first and the last sample, over the
 * wall time between them (1.0 = one core saturated): a row whose generator
 * sits well below 1.0 measured the server, not the generator.
 *
 * Latency: wrk's own histogram (`--latency`, microsecond resolution), read in
 * the script's done() hook together with the counts.
 */
import { spawn } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Measured } from './load.ts'

export interface WrkOptions {
  base: string
  paths: string[]
  connections: number
  seconds: number
  headers?: Record<string, string>
  method?: 'GET' | 'POST'
  body?: string
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS = 100
const SAMPLE_MS = 100

const lua = (s: string): string => JSON.stringify(s) // a JSON string is a valid Lua string literal for what we send

function script (opts: WrkOptions): string {
  const headers = Object.entries({ ...opts.headers ?? {}, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) })
  return [
    `local paths = { ${opts.paths.map(lua).join(', ')} }`,
    'local n = 0',
    `wrk.method = ${lua(opts.method ?? 'GET')}`,
    ...headers.map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
    ...(opts.body === undefined ? [] : [`wrk.body = ${lua(opts.body)}`]),
    'request = function ()',
    '  n = n + 1',
    '  return wrk.format(nil, paths[(n % #paths) + 1])',
    'end',
    'done = function (summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("\\nWRK-JSON {\\"requests\\":%d,\\"us\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d,\\"p50\\":%d,\\"p99\\":%d}\\n",',
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))',
    'end',
  ].join('\n')
}

function cpuTicks (pid: number): number | null {
  try {
    // fields after the parenthesised command name: state is field 3, utime 14, stime 15
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return null
  }
}

interface WrkSummary { requests: number, us: number, connect: number, read: number, write: number, status: number, timeout: number, p50: number, p99: number }

export async function wrk (opts: WrkOptions): Promise<Measured> {
  const file = join(tmpdir(), `mgw-bench-wrk-${process.pid}-${Math.random().toString(36).slice(2)}.lua`)
  writeFileSync(file, script(opts))
  try {
    const args = ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '30s', '--latency', '-s', file, opts.base]
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    const pid = child.pid!
    const samples: Array<{ ticks: number, at: number }> = []
    const sample = (): void => {
      const ticks = cpuTicks(pid)
      if (ticks !== null) samples.push({ ticks, at: performance.now() })
    }
    sample()
    const timer = setInterval(sample, SAMPLE_MS)
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('exit', resolve)
    }).finally(() => { clearInterval(timer) })
    const line = /^WRK-JSON (.+)$/m.exec(out)?.[1]
    if (code !== 0 || line === undefined) throw new Error(`wrk ${args.join(' ')} exited ${code}:\n${out}`)
    const r = JSON.parse(line) as WrkSummary
    const failed = r.connect + r.read + r.write + r.status + r.timeout
    const seconds = r.us / 1e6
    const ok = r.requests - r.status
    const first = samples[0]
    const last = samples.at(-1)
    const window = first !== undefined && last !== undefined ? last.at - first.at : 0
    const generatorCpu = window > 500 ? ((last!.ticks - first!.ticks) / TICKS) / (window / 1000) : undefined
    return {
      ok,
      failed,
      seconds,
      rps: ok / seconds,
      p50: r.p50 / 1000,
      p99: r.p99 / 1000,
      generator: 'wrk',
      ...(generatorCpu === undefined ? {} : { generatorCpu }),
    }
  } finally {
    rmSync(file, { force: true })
  }
}

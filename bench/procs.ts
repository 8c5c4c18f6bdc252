/**
 * Child processes of the bench (the gateway, the bare-fastify ceiling): spawned
 * tethered to this process (they die with it), on a free loopback port, with
 * their peak RSS read from /proc/<pid>/status (VmHWM) and reset between
 * scenarios through /proc/<pid>/clear_refs ("5" resets the peak).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { freePorts, waitForPorts } from '../test/env/ports.ts'
import { spawnTethered, type Tethered } from '../test/env/tether.ts'

export interface NodeServer {
  pid: number
  port: number
  url: string
  /** Peak resident set since start or the last resetPeak(), bytes. */
  peakRss: () => number
  resetPeak: () => void
  stop: () => Promise<void>
}

function statusField (pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return m?.[1] === undefined ? 0 : Number(m[1]) * 1024
}

/**
 * `node <args>` with `env` added to the environment; resolves once
 * http://127.0.0.1:<port>/ accepts connections (the script must listen on PORT).
 */
export async function startNodeServer (args: string[], env: Record<string, string>): Promise<NodeServer> {
  const [port] = await freePorts(1)
  const vars = Object.entries({ ...env, PORT: String(port), HOST: '127.0.0.1' }).map(([k, v]) => `${k}=${v}`)
  const proc: Tethered = await spawnTethered('env', [...vars, process.execPath, ...args])
  try {
    // generous: a loaded runner takes tens of seconds to start tsx; a start that fails ends the wait at once (proc.alive)
    await waitForPorts([port!], true, 90_000, proc.alive)
  } catch (err) {
    await proc.stop()
    throw new Error(`${args.join(' ')} did not start: ${(err as Error).message}\n${proc.output()}`)
  }
  return {
    pid: proc.pid,
    port: port!,
    url: `http://127.0.0.1:${port!}`,
    peakRss: () => statusField(proc.pid, 'VmHWM'),
    resetPeak: () => {
      try { writeFileSync(`/proc/${proc.pid}/clear_refs`, '5') } catch {}
    },
    stop: async () => {
      const out = proc.output()
      await proc.stop()
      if (/error/i.test(out)) console.error(`[bench] ${args.join(' ')} output:\n${out.slice(-2000)}`)
    },
  }
}

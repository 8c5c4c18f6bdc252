/**
 * The gateway as a child process (`npm start`, or a command of the caller's),
 * in a process group of its own so that a test can always end what it started.
 * Resolves once the gateway logs its listening address.
 */
import { spawn, type ChildProcess } from 'node:child_process'

export const ROOT = new URL('../../', import.meta.url).pathname

export interface GatewayProcess {
  child: ChildProcess
  port: number
  /** Everything the process wrote so far. */
  output: () => string
  /** Resolves with the exit code (null: killed by a signal). */
  exited: Promise<number | null>
  /** SIGKILL to the whole group, if anything of it is left. */
  kill: () => void
}

export async function startGatewayProcess (command: string, args: string[], env: Record<string, string>, cwd = ROOT): Promise<GatewayProcess> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', GATEWAY_SECRET: 'test-secret-0123456789abcdef', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const kill = (): void => {
    try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {}
  }
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 60 s:\n${out}`)), 60_000)
    const check = (): void => {
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    }
    child.stdout?.on('data', check)
    exited.then(code => { clearTimeout(timer); reject(new Error(`the gateway exited (${code}) before listening:\n${out}`)) }, () => {})
  })
  return { child, port, output: () => out, exited, kill }
}

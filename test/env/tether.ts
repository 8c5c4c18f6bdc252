import { spawn } from 'node:child_process'

/**
 * Runs `command` under a tiny `sh` wrapper whose stdin is a pipe from this process: when this
 * process ends for any reason (even SIGKILL) the pipe closes, the wrapper sends SIGTERM to the
 * command and, once it exited, removes `cleanupDir` (only then: a command that exits or is
 * signalled by other means leaves the dir alone). Nothing is left behind by a crashed run.
 */
const WRAPPER = `
exec 3<&0
"$@" </dev/null &
child=$!
echo "tether-pid:$child"
eof_mark="\${TETHER_CLEANUP:+$TETHER_CLEANUP/.tether-eof}"
( read -r _ <&3; if [ -n "$eof_mark" ]; then : > "$eof_mark"; fi; kill -TERM "$child" 2>/dev/null ) &
reader=$!
wait "$child"
code=$?
kill "$reader" 2>/dev/null
if [ -n "$eof_mark" ] && [ -e "$eof_mark" ]; then rm -rf "$TETHER_CLEANUP"; fi
exit $code
`

export interface Tethered {
  /** Pid of the command itself (not of the wrapper). */
  pid: number
  /** Settles with the exit code of the command once the wrapper ended. */
  exited: Promise<number | null>
  alive: () => boolean
  /** Last few KB of the command's stdout and stderr, for error messages. */
  output: () => string
  /** SIGTERM (by closing the tether) and wait for the exit. */
  stop: () => Promise<void>
  /** Send a signal to the command directly (e.g. SIGKILL for outage tests). */
  signal: (sig: NodeJS.Signals) => void
}

export async function spawnTethered (command: string, args: string[], opts: { cleanupDir?: string } = {}): Promise<Tethered> {
  const child = spawn('/bin/sh', ['-c', WRAPPER, 'tether', command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TETHER_CLEANUP: opts.cleanupDir ?? '' }
  })
  let out = ''
  let running = true
  const keep = (chunk: Buffer): void => { out = (out + chunk.toString('utf8')).slice(-8192) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  child.stdin.on('error', () => {})
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => { running = false; resolve(code) })
    child.once('error', () => { running = false; resolve(null) })
  })
  const pid = await new Promise<number>((resolve, reject) => {
    const onData = (): void => {
      const m = /tether-pid:(\d+)/.exec(out)
      if (m?.[1] !== undefined) {
        child.stdout.off('data', onData)
        resolve(Number(m[1]))
      }
    }
    child.stdout.on('data', onData)
    exited.then(() => reject(new Error(`${command} wrapper exited: ${out}`)), () => {})
  })
  // Keep the event loop free: the tether must not keep a test process alive by itself.
  child.unref()
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.()
  return {
    pid,
    exited,
    alive: () => running,
    output: () => out,
    // ref while it dies: whoever awaits `exited` next must keep the event loop alive
    signal: (sig) => { if (running) { child.ref(); try { process.kill(pid, sig) } catch {} } },
    stop: async () => {
      child.ref()
      if (running) child.stdin.end()
      await exited
    }
  }
}

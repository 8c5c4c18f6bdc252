import { spawn } from 'node:child_process'

/**
 * Runs `command` under a tiny `sh` wrapper whose stdin is a pipe from this process: when this
 * process ends for any reason (even SIGKILL) the pipe closes, the wrapper sends SIGTERM to the
 * command and, once it exited, removes `cleanupDir`. The same happens when the wrapper itself
 * gets SIGINT/SIGTERM/SIGHUP (Ctrl-C or a kill of the process group). A command that exits or
 * is signalled directly (signal()) leaves the dir alone. Nothing is left behind by a crash.
 */
const WRAPPER = `
exec 3<&0
eof_mark="\${TETHER_CLEANUP:+$TETHER_CLEANUP/.tether-eof}"
mark () { if [ -n "$eof_mark" ]; then : > "$eof_mark"; fi; }
"$@" </dev/null &
child=$!
trap 'mark; kill -TERM "$child" 2>/dev/null' INT TERM HUP
echo "tether-pid:$child"
( read -r _ <&3; mark; kill -TERM "$child" 2>/dev/null ) &
reader=$!
code=0
while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
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
  /** SIGTERM (by closing the tether) and wait for the exit; SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>
  /** SIGKILL the command's whole process group (it and all its children) and wait. */
  killAll: () => Promise<void>
  /** Send a signal to the command directly (e.g. SIGKILL for outage tests). */
  signal: (sig: NodeJS.Signals) => void
}

export async function spawnTethered (command: string, args: string[], opts: { cleanupDir?: string } = {}): Promise<Tethered> {
  const child = spawn('/bin/sh', ['-c', WRAPPER, 'tether', command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group, so killAll() reaches every process the command forked.
    detached: true,
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
  const killGroup = (): void => {
    if (running && child.pid !== undefined) { try { process.kill(-child.pid, 'SIGKILL') } catch {} }
  }
  return {
    pid,
    exited,
    alive: () => running,
    output: () => out,
    // ref while it dies: whoever awaits `exited` next must keep the event loop alive
    signal: (sig) => { if (running) { child.ref(); try { process.kill(pid, sig) } catch {} } },
    stop: async (graceMs = 3000) => {
      child.ref()
      if (running) child.stdin.end()
      const t = setTimeout(() => killGroup(), graceMs)
      await exited
      clearTimeout(t)
    },
    killAll: async () => {
      child.ref()
      killGroup()
      await exited
    }
  }
}

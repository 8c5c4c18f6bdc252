import { execFile } from 'node:child_process'
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { dovecotSockets, MAIL_DOMAIN, type DovecotInfo } from './dovecot-conf.ts'
import { freePorts, waitForPorts } from './ports.ts'
import { renderMainCf, renderMasterCf, renderTables, type PostfixInfo } from './postfix-conf.ts'
import { spawnTethered } from './tether.ts'

export type { PostfixInfo } from './postfix-conf.ts'

/** A running throw-away Postfix submission server in front of a harness Dovecot. */
/** uid/gid of a system user and the gid of a system group, from /etc/passwd and /etc/group. */
async function ids (user: string, group: string): Promise<{ uid: number, gid: number, group: number }> {
  const field = async (file: string, name: string, at: number): Promise<number> => {
    const line = (await readFile(file, 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`))
    const value = line?.split(':')[at]
    if (value === undefined) throw new Error(`${name} is missing from ${file} (is postfix installed?)`)
    return Number(value)
  }
  return { uid: await field('/etc/passwd', user, 2), gid: await field('/etc/passwd', user, 3), group: await field('/etc/group', group, 2) }
}

/**
 * The queue tree `postfix check` would create (post-install create-missing), made directly:
 * that script and the start-up checks take seconds, the master alone starts at once.
 */
async function makeQueue (dir: string): Promise<void> {
  const { uid, group } = await ids('postfix', 'postdrop')
  const queue = join(dir, 'queue')
  await mkdir(queue, { mode: 0o755 })
  const make = async (name: string, mode: number, gid: number): Promise<void> => {
    const path = join(queue, name)
    await mkdir(path)
    await chown(path, uid, gid)
    await chmod(path, mode)
  }
  for (const name of ['incoming', 'active', 'deferred', 'bounce', 'defer', 'trace', 'flush', 'hold', 'corrupt', 'saved', 'private']) {
    await make(name, 0o700, 0)
  }
  await make('maildrop', 0o730, group)
  await make('public', 0o710, group)
  await mkdir(join(queue, 'pid'), { mode: 0o755 })
  await chown(join(dir, 'data'), uid, (await ids('postfix', 'postdrop')).gid)
}

export interface PostfixEnv {
  info: PostfixInfo
  stop: () => Promise<void>
}

/**
 * Starts Postfix (its `master -c <dir> -d`, as root: the master runs every daemon as the
 * `postfix` user, none chrooted) with its config, queue, data dir and log in a temp dir, on two free
 * loopback ports: submission (STARTTLS, then AUTH) and submissions (implicit TLS). SASL is
 * Dovecot's (its `auth-postfix` socket), so the harness users log in with their IMAP
 * passwords; mail for `<user>@example.test` is delivered to Dovecot over LMTP. TLS uses the
 * Dovecot harness's certificate, so one CA file (`caFile`) verifies both servers.
 */
export async function startPostfix (dovecot: DovecotInfo): Promise<PostfixEnv> {
  if (process.getuid?.() !== 0) throw new Error('the Postfix harness runs as root (its master starts the daemons as user postfix)')
  const dir = await mkdtemp(join(tmpdir(), 'mgw-postfix-'))
  await chmod(dir, 0o755)
  await mkdir(join(dir, 'data'), { recursive: true })
  await makeQueue(dir)
  const { stdout } = await promisify(execFile)('postconf', ['-h', 'daemon_directory'])
  const master = join(stdout.trim(), 'master')
  const tls = { certFile: join(dovecot.dir, 'server.pem'), keyFile: join(dovecot.dir, 'server.key') }
  let lastError: unknown
  for (let attempt = 0; attempt < 4; attempt++) {
    const [submission, submissions] = await freePorts(2)
    const info: PostfixInfo = {
      host: '127.0.0.1',
      ports: { submission: submission!, submissions: submissions! },
      caFile: dovecot.caFile,
      domain: MAIL_DOMAIN,
      dir,
      logFile: join(dir, 'postfix.log'),
    }
    await writeFile(join(dir, 'main.cf'), renderMainCf({ info, tls, sockets: dovecotSockets(dovecot.dir) }))
    await writeFile(join(dir, 'master.cf'), renderMasterCf(info))
    for (const [name, text] of Object.entries(renderTables(info))) await writeFile(join(dir, name), text)
    // -d: the master stays in the foreground, in the tether's process group
    const proc = await spawnTethered(master, ['-c', dir, '-d'], { cleanupDir: dir })
    try {
      await waitForPorts(Object.values(info.ports), true, 15_000, proc.alive)
    } catch (err) {
      const log = await readFile(info.logFile, 'utf8').catch(() => '')
      await proc.killAll()
      lastError = new Error(`postfix did not start: ${(err as Error).message}\n${proc.output()}\n${log.slice(-2000)}`)
      if (/in use/i.test(proc.output() + log)) continue
      break
    }
    let stopped: Promise<void> | undefined
    return {
      info,
      stop: async () => {
        stopped ??= (async () => {
          // throw-away queue: SIGKILL of the process group, no graceful flush
          await proc.killAll()
          await waitForPorts(Object.values(info.ports), false, 5000)
          await rm(dir, { recursive: true, force: true })
        })()
        await stopped
      }
    }
  }
  await rm(dir, { recursive: true, force: true })
  throw lastError
}

import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeCerts } from './certs.ts'
import { dovecotPaths, renderDovecotConf, type DovecotInfo } from './dovecot-conf.ts'
import { bindDovecotOps, type DovecotOps } from './dovecot-ops.ts'
import { freePorts, waitForPorts } from './ports.ts'
import { spawnTethered } from './tether.ts'

export type { DovecotInfo } from './dovecot-conf.ts'
export type { DeliverOptions, DovecotOps, TestUser } from './dovecot-ops.ts'

/** A running throw-away Dovecot: connection data, user/mail helpers and stop(). */
export interface DovecotEnv extends DovecotOps {
  host: '127.0.0.1'
  ports: DovecotInfo['ports']
  caFile: string
  /** JSON-safe data from which another process rebuilds the helpers (see shared.ts). */
  info: DovecotInfo
  stop: () => Promise<void>
}

/** uid/gid of the `mail` system user that owns every Maildir. */
async function mailOwner (): Promise<{ uid: number, gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('mail:'))
  const [, , uid, gid] = line?.split(':') ?? []
  if (uid === undefined || gid === undefined) throw new Error('system user "mail" is missing')
  return { uid: Number(uid), gid: Number(gid) }
}

/**
 * Starts Dovecot (`dovecot -F`) with config, state, sockets, logs and Maildirs in a temp dir
 * (or `opts.dir`), on four free loopback ports. Resolves once every listener accepts.
 * `configure` may rewrite the config (a server with fewer capabilities, no Trash, …).
 */
export async function startDovecot (opts: { dir?: string, configure?: (conf: string) => string } = {}): Promise<DovecotEnv> {
  if (process.getuid?.() !== 0) throw new Error('the Dovecot harness runs as root (mail_uid=mail, listeners, chroots)')
  const dir = opts.dir ?? await mkdtemp(join(tmpdir(), 'mgw-dovecot-'))
  await mkdir(dir, { recursive: true })
  // Dovecot's unprivileged auth and mail processes must traverse the dir.
  await chmod(dir, 0o755)
  const owner = await mailOwner()
  await mkdir(join(dir, 'home'), { recursive: true })
  await chown(join(dir, 'home'), owner.uid, owner.gid)
  await mkdir(join(dir, 'state'), { recursive: true })
  const paths = dovecotPaths(dir)
  await mkdir(paths.usersDir, { recursive: true })
  const tls = await makeCerts(dir)

  let lastError: unknown
  for (let attempt = 0; attempt < 4; attempt++) {
    const [imap, imaps, pop3, pop3s] = await freePorts(4)
    const info: DovecotInfo = {
      host: '127.0.0.1',
      ports: { imap: imap!, imaps: imaps!, pop3: pop3!, pop3s: pop3s! },
      caFile: tls.caFile,
      ...paths
    }
    const conf = renderDovecotConf(info, tls)
    await writeFile(info.configFile, opts.configure === undefined ? conf : opts.configure(conf))
    const proc = await spawnTethered('dovecot', ['-F', '-c', info.configFile],
      opts.dir === undefined ? { cleanupDir: dir } : {})
    try {
      await waitForPorts(Object.values(info.ports), true, 10_000, proc.alive)
    } catch (err) {
      const log = await readFile(info.logFile, 'utf8').catch(() => '')
      proc.signal('SIGTERM')
      await proc.exited
      lastError = new Error(`dovecot did not start: ${(err as Error).message}\n${proc.output()}\n${log.slice(-2000)}`)
      if (/in use/i.test(proc.output() + log)) continue
      break
    }
    let stopped: Promise<void> | undefined
    return {
      host: info.host,
      ports: info.ports,
      caFile: info.caFile,
      info,
      ...bindDovecotOps(info),
      stop: async () => {
        stopped ??= (async () => {
          // A throw-away server: SIGKILL of its process group is instant (a graceful stop
          // takes Dovecot about a second).
          await proc.killAll()
          await waitForPorts(Object.values(info.ports), false, 5000)
          if (opts.dir === undefined) await rm(dir, { recursive: true, force: true })
        })()
        await stopped
      }
    }
  }
  if (opts.dir === undefined) await rm(dir, { recursive: true, force: true })
  throw lastError
}

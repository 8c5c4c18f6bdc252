// Runs every test/**/*.test.ts against one Dovecot and one Redis started here (see README.md).
// Extra arguments filter the files: `node --import tsx test/run.ts pop3 cache/`.
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDovecot } from './env/dovecot.ts'
import { ensurePackages } from './env/install.ts'
import { startPostfix } from './env/postfix.ts'
import { startRedis } from './env/redis.ts'
import { startRedisCluster } from './env/redis-cluster.ts'
import { TEST_ENV_VAR, type TestEnvData } from './env/shared.ts'

const root = join(import.meta.dirname, '..')
const filters = process.argv.slice(2)

async function testFiles (): Promise<string[]> {
  const entries = await readdir(join(root, 'test'), { recursive: true })
  return entries
    .map((e) => join('test', e))
    .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules'))
    .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
    .sort()
}

ensurePackages()
const files = await testFiles()
if (files.length === 0) {
  console.error('test/run: no test files matched')
  process.exit(1)
}
const started = Date.now()
const [dovecot, redis, redisCluster] = await Promise.all([startDovecot(), startRedis(), startRedisCluster()])
// Postfix authenticates against and delivers to this Dovecot: started once its sockets exist
const postfix = await startPostfix(dovecot.info)
let stopping: Promise<void> | undefined
const stopAll = async (): Promise<void> => {
  stopping ??= Promise.allSettled([postfix.stop(), dovecot.stop(), redis.stop(), redisCluster.stop()]).then(() => {})
  await stopping
}
const data: TestEnvData = {
  dovecot: dovecot.info,
  redis: { url: redis.url, host: redis.host, port: redis.port },
  redisCluster: { url: redisCluster.url },
  postfix: postfix.info,
}
const p = dovecot.ports
const s = postfix.info.ports
console.log(`test/run: dovecot imap=${p.imap} imaps=${p.imaps} pop3=${p.pop3} pop3s=${p.pop3s} (${dovecot.info.dir}), ` +
  `postfix submission=${s.submission} submissions=${s.submissions}, ` +
  `redis ${redis.url}, redis cluster ${redisCluster.url}, ready in ${Date.now() - started} ms; ${files.length} test files`)

// Gateway logs of the whole run land here; test/final/log-scan.ts reads them last.
const logDir = await mkdtemp(join(tmpdir(), 'mail-gateway-logs-'))
const childEnv = { ...process.env, [TEST_ENV_VAR]: JSON.stringify(data), TEST_LOG_DIR: logDir }

function runTests (testFiles: string[]): Promise<number> {
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=2',
    `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? '300000'}`, ...testFiles
  ], { cwd: root, stdio: 'inherit', env: childEnv })
  current = child
  return new Promise<number>((resolve) => {
    child.once('exit', (status, signal) => resolve(status ?? (signal !== null ? 1 : 0)))
    child.once('error', (err) => { console.error(err); resolve(1) })
  })
}
let current: ReturnType<typeof spawn> | undefined

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    current?.kill(sig)
    stopAll().then(() => process.exit(130), () => process.exit(130))
  })
}

let code = await runTests(files)
// The log scan needs the whole run's logs: only a full run (no filter) ends with it.
if (filters.length === 0) code = Math.max(code, await runTests(['test/final/log-scan.ts']))
await stopAll()
await rm(logDir, { recursive: true, force: true })
process.exit(code)

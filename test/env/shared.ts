import type { DovecotInfo } from './dovecot-conf.ts'
import { bindDovecotOps, type DovecotOps } from './dovecot-ops.ts'
import { startDovecot } from './dovecot.ts'
import { startPostfix, type PostfixInfo } from './postfix.ts'
import { startRedis } from './redis.ts'
import { startRedisCluster } from './redis-cluster.ts'

/** What test/run.ts puts (as JSON) into the TEST_ENV environment variable. */
export interface TestEnvData {
  dovecot: DovecotInfo
  redis: { url: string, host: '127.0.0.1', port: number }
  /** The three-master Redis Cluster (test/env/redis-cluster.ts); absent when the file runs on its own. */
  redisCluster?: { url: string }
  /** The submission server in front of the Dovecot (test/env/postfix.ts). */
  postfix: PostfixInfo
}

export interface TestEnv {
  dovecot: DovecotOps & { host: '127.0.0.1', ports: DovecotInfo['ports'], caFile: string, info: DovecotInfo }
  /** Shared Redis: never stop, kill or FLUSHALL it (use startRedis() for outage tests). */
  redis: TestEnvData['redis']
  /** Shared Postfix (SMTP submission; delivers `<user>@example.test` to the user's INBOX). */
  postfix: PostfixInfo
}

export const TEST_ENV_VAR = 'TEST_ENV'

export function envFromData (data: TestEnvData): TestEnv {
  const info = data.dovecot
  return {
    dovecot: { host: info.host, ports: info.ports, caFile: info.caFile, info, ...bindDovecotOps(info) },
    redis: data.redis,
    postfix: data.postfix
  }
}

async function startPrivate (): Promise<TestEnv> {
  const [dovecot, redis] = await Promise.all([startDovecot(), startRedis()])
  const postfix = await startPostfix(dovecot.info)
  // All three services are tethered to this process (see tether.ts): they stop and their temp dirs
  // are removed when it exits, however it exits. No hook needed.
  return envFromData({ dovecot: dovecot.info, redis: { url: redis.url, host: redis.host, port: redis.port }, postfix: postfix.info })
}

let env: Promise<TestEnv> | undefined

/**
 * The Dovecot + Redis + Postfix of this test run: the instances test/run.ts started (from TEST_ENV), or,
 * when a test file runs on its own, private instances started once per process.
 */
export async function testEnv (): Promise<TestEnv> {
  env ??= (async () => {
    const raw = process.env[TEST_ENV_VAR]
    return raw !== undefined && raw !== '' ? envFromData(JSON.parse(raw) as TestEnvData) : await startPrivate()
  })()
  return await env
}

let cluster: Promise<{ url: string }> | undefined

/**
 * The Redis Cluster of this test run (its seed URL, `redis+cluster://…`): the one test/run.ts
 * started, or, when a test file runs on its own, a private one started once per process
 * (about 4 s). Shared like the single Redis: never stop or flush it; use unique keys.
 */
export async function testRedisCluster (): Promise<{ url: string }> {
  cluster ??= (async () => {
    const raw = process.env[TEST_ENV_VAR]
    const given = raw !== undefined && raw !== '' ? (JSON.parse(raw) as TestEnvData).redisCluster : undefined
    return given ?? { url: (await startRedisCluster()).url }
  })()
  return await cluster
}

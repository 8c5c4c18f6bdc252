/**
 * The bench's servers and data: a throw-away Dovecot and Redis (the test
 * harness), one IMAP user (corpus in INBOX, the large messages in "Large",
 * and `warmup` more corpus messages in "Warmup", read uncounted before the
 * cold row) and one POP3 user (large messages first, then the corpus, so the newest
 * page holds corpus messages only).
 */
import { startDovecot, type DovecotEnv } from '../test/env/dovecot.ts'
import { BENCH_TOOLS, ensurePackages } from '../test/env/install.ts'
import { startRedis, type RedisEnv } from '../test/env/redis.ts'
import { attachmentMessage, corpusMessages, largeTextMessage } from './corpus.ts'

export interface BenchUser { username: string, password: string }

export interface BenchEnv {
  dovecot: DovecotEnv
  redis: RedisEnv
  imapUser: BenchUser
  pop3User: BenchUser
  /** UIDs of the corpus messages in the IMAP user's INBOX, in delivery order. */
  inboxUids: number[]
  stop: () => Promise<void>
}

export async function startBenchEnv (sizes: { imap: number, pop3: number, warmup?: number }): Promise<BenchEnv> {
  ensurePackages()
  ensurePackages(Object.keys(BENCH_TOOLS), BENCH_TOOLS)
  const [dovecot, redis] = await Promise.all([startDovecot(), startRedis()])
  const imapUser = await dovecot.createUser('bench-imap')
  const pop3User = await dovecot.createUser('bench-pop3')
  const large = [largeTextMessage(), attachmentMessage()]
  const [imapDelivered] = await Promise.all([
    dovecot.deliverMany(imapUser.username, [
      ...corpusMessages(sizes.imap).map(raw => ({ raw })),
      ...large.map(raw => ({ raw, mailbox: 'Large' })),
      ...corpusMessages(sizes.warmup ?? 0).map(raw => ({ raw, mailbox: 'Warmup' })),
    ]),
    dovecot.deliverMany(pop3User.username, [
      ...large.map(raw => ({ raw })),
      ...corpusMessages(sizes.pop3).map(raw => ({ raw })),
    ]),
  ])
  return {
    dovecot,
    redis,
    imapUser,
    pop3User,
    inboxUids: imapDelivered.slice(0, sizes.imap).map(d => d.uid),
    stop: async () => { await Promise.allSettled([dovecot.stop(), redis.stop()]) },
  }
}

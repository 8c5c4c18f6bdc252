/**
 * After writing everything the gateway caches (mail JSON, raw message bytes,
 * lists, revocations) for an account whose id, mailbox names and content
 * contain known strings, SCAN the whole Redis: every key has a TTL and no key
 * or value contains a password, a mailbox name, a user name or message text.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createCache } from '../../src/cache/index.ts'
import { startRedis } from './helpers.ts'
import type { TestRedis } from './helpers.ts'
import { waitFor } from './helpers.ts'
import { scanRedis } from './scan.ts'

const PASSWORD = 'Sup3r-S3cret-Passw0rd!'
const USERNAME = 'alice.liddell@example.org'
const MAILBOX = 'Geheim/Projekt-Zebra'
const TEXT = 'The eagle lands at midnight near the old mill'
const UIDL = 'UIDL-000123-zebra'

let redis: TestRedis
before(async () => { redis = await startRedis() })
after(async () => { await redis.stop() })

test('Redis after a run: every key has a TTL; no credential, mailbox name or message text in clear', async () => {
  const cache = createCache({ redisUrl: redis.url, secret: randomBytes(32), memoryBytes: 1 << 20 })
  try {
    await waitFor(() => cache.status().status === 'ok', 5000, 'redis ready')
    // The account id a service might use carries the user name and host.
    const account = cache.sealed.forAccount(`imap:mail.example.org:993:${USERNAME}`)
    await account.setJson('mailboxes', [], [{ name: MAILBOX, path: MAILBOX, unread: 3 }], 300)
    await account.setJson('message', [MAILBOX, 1700000001, 17], {
      subject: TEXT,
      preview: `${TEXT} — and ${PASSWORD} was in the mail body`,
      mailbox: MAILBOX,
    }, 300)
    const raw = Buffer.from(`From: ${USERNAME}\r\nSubject: ${TEXT}\r\n\r\n${TEXT}\r\npassword: ${PASSWORD}\r\n`)
    await account.setBuffer('raw', [MAILBOX, 1700000001, 17], raw, 300)
    await account.setBuffer('raw', ['pop3', UIDL], raw, 300)
    // A large, compressible list exercises the deflate path.
    await account.setJson('list', [MAILBOX, 'page-1'], Array.from({ length: 500 }, (_, i) => ({ id: i, subject: TEXT, mailbox: MAILBOX })), 300)
    await account.rememberJson('count', [MAILBOX], 300, async () => ({ mailbox: MAILBOX, exists: 42 }))
    await cache.revocations.revoke(`token-of-${USERNAME}`, Date.now() + 3600_000)

    const { keys, problems } = await scanRedis(redis.url, [PASSWORD, USERNAME, MAILBOX, 'Geheim', 'Zebra', TEXT, 'eagle', UIDL, 'example.org'])
    assert.equal(keys.length, 7, `keys: ${keys.join(', ')}`)
    assert.deepEqual(problems, [])
    for (const key of keys) assert.match(key, /^mg:v1:/)
  } finally {
    await cache.close()
  }
})

test('the scanner itself catches clear text and missing TTLs', async () => {
  const { Redis } = await import('ioredis')
  const client = new Redis(redis.url)
  client.on('error', () => {})
  try {
    await client.set(`leak:${MAILBOX}`, `body ${TEXT}`)
    const { problems } = await scanRedis(redis.url, [MAILBOX, TEXT])
    assert.ok(problems.some(p => p.startsWith('key without TTL')))
    assert.ok(problems.some(p => p.startsWith('key contains')))
    assert.ok(problems.some(p => p.includes('value of')))
  } finally {
    await client.del(`leak:${MAILBOX}`)
    client.disconnect()
  }
})

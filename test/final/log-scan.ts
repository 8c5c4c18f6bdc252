/**
 * Runs after every other test file (test/run.ts starts it last): reads the
 * gateway logs the whole run wrote (debug level) and every password and token
 * the tests used, and fails if any secret — or its base64 form — appears.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'

const dir = process.env.TEST_LOG_DIR

it('the logs of the whole run contain no password and no token', () => {
  assert.ok(dir !== undefined && dir !== '', 'TEST_LOG_DIR is set by test/run.ts')
  const secrets = [...new Set(readFileSync(join(dir, 'secrets.txt'), 'utf8').split('\n').filter(s => s.length >= 6))]
  const logs = readdirSync(dir).filter(f => f.endsWith('.log')).map(f => readFileSync(join(dir, f), 'utf8'))
  const lines = logs.reduce((n, l) => n + l.split('\n').length, 0)
  assert.ok(secrets.length >= 10, `the run recorded the secrets it used (${secrets.length})`)
  assert.ok(lines >= 100, `the run wrote gateway logs (${lines} lines)`)
  const leaks: string[] = []
  for (const secret of secrets) {
    const forms = [secret, Buffer.from(secret).toString('base64')]
    for (const log of logs) {
      if (forms.some(f => log.includes(f))) leaks.push(`${secret.slice(0, 4)}… (${secret.length} chars)`)
    }
  }
  assert.deepEqual(leaks, [])
  console.log(`# log scan: ${secrets.length} secrets, ${logs.length} log files, ${lines} lines, no leak`)
})

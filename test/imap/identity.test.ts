/**
 * The IMAP ID the gateway sends (RFC 2971): its own name and version from
 * package.json, nothing of the library's (vendor, support URL, version), as
 * Dovecot logs it (imap_id_log = *).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { env, makeBackend, newAccount } from './helpers.ts'

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string, version: string }

test('the ID names the gateway and its version, and nothing of imapflow', async () => {
  const { backend } = makeBackend()
  const { settings } = await newAccount('identity')
  try {
    await backend.login(settings)
    const log = await readFile(env.dovecot.info.logFile, 'utf8')
    // the logged-in session's line carries the user, which ties it to this login
    const lines = log.split('\n').filter(l => l.includes('ID sent:') && l.includes(`(${settings.username})`))
    assert.ok(lines.length >= 1, `no ID line for ${settings.username}`)
    for (const line of lines) {
      assert.ok(line.includes(`name=${pkg.name}`) && line.includes(`version=${pkg.version}`), line)
      assert.doesNotMatch(line, /vendor|support-url|imapflow|Postal/i)
    }
  } finally {
    await backend.close()
  }
})

/**
 * At `info` (the production level) the logs never name a mail account's user:
 * a whole session's life — logins that succeed and fail over IMAP and POP3,
 * reads, a filter, a refused input, a revocation, a request with the revoked
 * token — leaves no user name in the lines, whatever the mail server says.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { buildApp } from '../../src/app.ts'
import { createService } from '../../src/compose.ts'
import { loadConfig } from '../../src/config.ts'
import { loggerOptions } from '../../src/logger.ts'
import { testEnv } from '../env/shared.ts'

test('no user name in info logs, through logins (good and bad), reads, refusals and a revocation', async () => {
  const env = await testEnv()
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const logger = pino(loggerOptions('info'), sink)
  const config = loadConfig({ GATEWAY_SECRET: 'test-secret-0123456789abcdef', MAIL_ALLOWED_HOSTS: '127.0.0.1', MAIL_TLS_CA_FILE: env.dovecot.caFile, LOG_LEVEL: 'info' })
  const service = createService(config, logger)
  const app = await buildApp({ config, service, logger })
  try {
    const user = await env.dovecot.createUser('logname')
    await env.dovecot.deliver(user.username, Buffer.from('Subject: hi\r\n\r\nbody\r\n'))
    const login = (protocol: 'imap' | 'pop3', password: string, username = user.username) => app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { protocol, host: '127.0.0.1', port: protocol === 'imap' ? env.dovecot.ports.imaps : env.dovecot.ports.pop3s, username, password },
    })
    assert.equal((await login('imap', 'wrong-password')).statusCode, 401)
    assert.equal((await login('pop3', 'wrong-password')).statusCode, 401)
    assert.equal((await login('imap', 'x', `${user.username}\r\n`)).statusCode, 400)
    const pop = await login('pop3', user.password)
    assert.equal(pop.statusCode, 201, pop.body)
    const res = await login('imap', user.password)
    assert.equal(res.statusCode, 201, res.body)
    const auth = { authorization: `Bearer ${res.json().token as string}` }
    const popAuth = { authorization: `Bearer ${pop.json().token as string}` }
    const boxes = (await app.inject({ url: '/v1/mailboxes', headers: auth })).json() as { items: Array<{ id: string }> }
    assert.equal((await app.inject({ url: `/v1/mailboxes/${boxes.items[0]!.id}/messages?subject=hi`, headers: auth })).statusCode, 200)
    assert.equal((await app.inject({ url: '/v1/account', headers: popAuth })).statusCode, 200)
    assert.equal((await app.inject({ url: '/v1/messages/AAAA', headers: auth })).statusCode, 400)
    assert.equal((await app.inject({ method: 'POST', url: '/graphql', headers: auth, payload: { query: '{ account { username } }' } })).statusCode, 200)
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auth })).statusCode, 204)
    assert.equal((await app.inject({ url: '/v1/account', headers: auth })).statusCode, 401)
    assert.ok(lines.length >= 10, `info lines were written (${lines.length})`)
    const named = lines.filter(l => l.includes(user.username))
    assert.deepEqual(named, [])
  } finally {
    await app.close()
    await service.close()
  }
})

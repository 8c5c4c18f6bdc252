/**
 * Session creation is rate limited by default, per target account and per
 * client address, against the real Dovecot: guessed passwords stop reaching
 * the server (429 with Retry-After, REST and GraphQL alike), while another
 * tenant's correct login goes through.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { recordSecret, startGateway, type Gateway } from './gateway.ts'

describe('login throttle (defaults)', { timeout: 60_000 }, () => {
  let gw: Gateway
  before(async () => { gw = await startGateway() })
  after(async () => { await gw?.close() })

  const create = (username: string, password: string, client: string) => {
    recordSecret(password)
    return gw.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      remoteAddress: client,
      payload: { protocol: 'imap', host: '127.0.0.1', port: gw.env.dovecot.ports.imap, security: 'none', username, password },
    })
  }

  it('a sixth guess for one account is refused before any login, from any client; another tenant logs in', async () => {
    const victim = await gw.env.dovecot.createUser('throttle-victim')
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await create(victim.username, `guess-${i}`, '203.0.113.7')).statusCode)
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429])
    const refused = await create(victim.username, victim.password, '203.0.113.8')
    assert.equal(refused.statusCode, 429, 'per account, whichever client asks (the account\'s tokens already issued still work)')
    assert.equal(refused.json().code, 'rate-limited')
    assert.ok(Number(refused.headers['retry-after']) >= 1)
    // the user name's case does not open another budget
    assert.equal((await create(victim.username.toUpperCase(), 'guess-x', '203.0.113.7')).statusCode, 429)
    // GraphQL createSession counts the same
    const gql = await gw.app.inject({
      method: 'POST',
      url: '/graphql',
      remoteAddress: '203.0.113.9',
      payload: {
        query: 'mutation ($input: CreateSessionInput!) { createSession(input: $input) { token } }',
        variables: { input: { protocol: 'imap', host: '127.0.0.1', port: gw.env.dovecot.ports.imap, security: 'none', username: victim.username, password: 'guess-g' } },
      },
    })
    assert.equal(gql.json().errors?.[0]?.extensions?.code, 'rate-limited', gql.body)
    assert.ok(Number(gql.headers['retry-after']) >= 1)
    const other = await gw.env.dovecot.createUser('throttle-other')
    assert.equal((await create(other.username, other.password, '203.0.113.7')).statusCode, 201)
  })

  it('one client address gets 20 attempts in flight or failed; its correct logins are given back', async () => {
    const user = await gw.env.dovecot.createUser('throttle-client')
    // successes do not use up the budget
    for (let i = 0; i < 3; i++) assert.equal((await create(user.username, user.password, '2001:db8:1:2::1')).statusCode, 201)
    // 21 guesses at once, each for another account, from addresses of one IPv6 /64
    const res = await Promise.all(Array.from({ length: 21 }, (_, i) => create(`nobody-${i}`, 'guess', `2001:db8:1:2::${(i + 2).toString(16)}`)))
    const counts = res.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.statusCode]: (acc[r.statusCode] ?? 0) + 1 }), {})
    assert.deepEqual(counts, { 401: 20, 429: 1 })
    assert.equal((await create(user.username, user.password, '2001:db8:1:2::99')).statusCode, 429)
    assert.equal((await create(user.username, user.password, '2001:db8:1:3::1')).statusCode, 201, 'another /64 is another client')
  })
})

/**
 * GraphQL against the real stack (Dovecot, IMAP and POP3): for pages of
 * messages, each message by id, the account and its mailboxes, GraphQL returns
 * the same value as REST for every shared field; and a page of 20 messages
 * with their text costs one batched backend fetch, not 20.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { createService } from '../../src/compose.ts'
import { loadConfig } from '../../src/config.ts'
import { loggerOptions } from '../../src/logger.ts'
import type { MailBackend } from '../../src/mail/backend.ts'
import type { MailServiceOptions } from '../../src/mail/service.ts'
import type { FastifyInstance } from 'fastify'
import { testEnv, type TestEnv } from '../env/shared.ts'
import { readCorpus } from './direct.ts'
import { LOG_DIR, recordSecret } from './gateway.ts'
import { assertSameFields, graphqlAccount, graphqlMailboxes, graphqlMessage, graphqlMessagePage } from '../graphql/parity.ts'

const COUNT = 45

describe('GraphQL ↔ REST parity on real backends', { timeout: 240_000 }, () => {
  let env: TestEnv
  let app: FastifyInstance
  let close: () => Promise<void>
  let user: { username: string, password: string }
  const fetches: Record<'imap' | 'pop3', number[]> = { imap: [], pop3: [] }

  before(async () => {
    env = await testEnv()
    const config = loadConfig({
      GATEWAY_SECRET: 'test-secret-0123456789abcdef',
      MAIL_ALLOWED_HOSTS: '127.0.0.1,localhost',
      MAIL_TLS_CA_FILE: env.dovecot.caFile,
      LOG_LEVEL: 'debug',
      UPSTREAM_TIMEOUT_MS: '10000',
    })
    const logger = pino(loggerOptions('debug'), pino.destination({ dest: join(LOG_DIR, `gateway-${process.pid}.log`), append: true, sync: true }))
    const service = createService(config, logger)
    // Count backend.getMessages calls (one upstream round per mailbox per call).
    const backends = (service as unknown as { opts: MailServiceOptions }).opts.backends
    for (const protocol of ['imap', 'pop3'] as const) {
      const backend: MailBackend = backends[protocol]
      const original = backend.getMessages.bind(backend)
      backend.getMessages = async (ctx, keys) => { fetches[protocol].push(keys.length); return original(ctx, keys) }
    }
    app = await buildApp({ config, service, logger })
    await app.ready()
    close = async () => { await app.close(); await service.close() }
    user = await env.dovecot.createUser('gqlparity')
    recordSecret(user.password)
    const corpus = readCorpus().slice(0, COUNT)
    await env.dovecot.deliverMany(user.username, corpus.map((c, i) => ({ raw: c.raw, flags: i % 3 === 0 ? ['\\Seen'] : [] })))
  })
  after(async () => { await close?.() })

  async function login (protocol: 'imap' | 'pop3'): Promise<string> {
    const port = protocol === 'imap' ? env.dovecot.ports.imaps : env.dovecot.ports.pop3s
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { protocol, host: '127.0.0.1', port, security: 'tls', username: user.username, password: user.password } })
    assert.equal(res.statusCode, 201, res.body)
    const token = res.json().token as string
    recordSecret(token)
    return token
  }
  const rest = async (url: string, token: string): Promise<any> => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`)
    return res.json()
  }

  for (const protocol of ['imap', 'pop3'] as const) {
    it(`${protocol}: pages, messages, account and mailboxes agree field for field`, async () => {
      const token = await login(protocol)
      assertSameFields(await rest('/v1/account', token), await graphqlAccount(app, token), 'account')
      const boxes = await rest('/v1/mailboxes', token)
      assertSameFields(boxes.items, await graphqlMailboxes(app, token), 'mailboxes')
      const inbox = boxes.items.find((m: { path: string }) => m.path === 'INBOX').id as string

      let cursor: string | null = null
      let seen = 0
      do {
        const q: string = cursor === null ? '' : `&cursor=${cursor}`
        const restPage = await rest(`/v1/mailboxes/${inbox}/messages?limit=20${q}`, token)
        const gqlPage = await graphqlMessagePage(app, token, inbox, cursor === null ? { first: 20 } : { first: 20, after: cursor })
        assertSameFields(restPage, gqlPage, `page after ${cursor}`)
        seen += restPage.items.length
        cursor = restPage.nextCursor
      } while (cursor !== null)
      assert.equal(seen, COUNT)

      const first = (await rest(`/v1/mailboxes/${inbox}/messages?limit=10`, token)).items as Array<{ id: string }>
      for (const { id } of first) {
        assertSameFields(await rest(`/v1/messages/${id}`, token), await graphqlMessage(app, token, id), `message ${id}`)
      }
    })

    it(`${protocol}: a page of 20 messages with text is one batched backend fetch`, async () => {
      const token = await login(protocol)
      const inbox = (await rest('/v1/mailboxes', token)).items[0].id as string
      // The second page: the parity test read bodies of the first 10 only, so these are not cached.
      const page1 = await rest(`/v1/mailboxes/${inbox}/messages?limit=20`, token)
      const before = fetches[protocol].length
      const res = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${token}` },
        payload: { query: 'query ($id: ID!, $after: String) { messages(mailboxId: $id, first: 20, after: $after) { edges { node { id text html } } } }', variables: { id: inbox, after: page1.nextCursor } },
      })
      const body = res.json()
      assert.equal(body.errors, undefined, JSON.stringify(body.errors))
      const n = body.data.messages.edges.length
      assert.equal(n, 20)
      const calls = fetches[protocol].slice(before)
      assert.deepEqual(calls, [20], 'one backend.getMessages call for the 20 messages')
    })
  }
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config.ts'
import { DEFAULT_LIMITS } from '../../src/graphql/limits.ts'

test('an unknown LOG_LEVEL stops start-up with a clear message (pino would throw later, without one)', () => {
  assert.throws(() => loadConfig({ LOG_LEVEL: 'verbose' }), /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/)
  assert.equal(loadConfig({ LOG_LEVEL: 'silent' }).logLevel, 'silent')
  assert.equal(loadConfig({}).logLevel, 'info')
})

test('GraphQL limits default to the GraphQL module\'s own defaults', () => {
  const c = loadConfig({})
  assert.deepEqual([c.graphqlMaxDepth, c.graphqlMaxCost], [DEFAULT_LIMITS.maxDepth, DEFAULT_LIMITS.maxCost])
  assert.equal(loadConfig({ GRAPHQL_MAX_COST: '500' }).graphqlMaxCost, 500)
  assert.throws(() => loadConfig({ GRAPHQL_MAX_DEPTH: '0' }), /GRAPHQL_MAX_DEPTH must be an integer ≥ 1/)
})

test('PARSE_BUDGET_BYTES takes sizes, defaults to 64 MiB and refuses less than 1 MiB', () => {
  assert.equal(loadConfig({}).parseBudgetBytes, 64 * 1024 * 1024)
  assert.equal(loadConfig({ PARSE_BUDGET_BYTES: '256MB' }).parseBudgetBytes, 256 * 1024 * 1024)
  assert.throws(() => loadConfig({ PARSE_BUDGET_BYTES: '512kb' }), /PARSE_BUDGET_BYTES must be at least 1048576 bytes/)
})

test('the login throttle and login budgets are on by default; 0 turns a throttle key off', () => {
  const c = loadConfig({})
  assert.deepEqual([c.loginRatePerClient, c.loginRatePerAccount, c.loginRateWindowMs], [20, 5, 900_000])
  assert.deepEqual([c.loginConcurrencyPerClient, c.loginConcurrencyPerHost, c.loginConcurrency], [8, 16, 64])
  const off = loadConfig({ LOGIN_RATE_PER_CLIENT: '0', LOGIN_RATE_PER_ACCOUNT: '0', LOGIN_RATE_WINDOW_SECONDS: '60' })
  assert.deepEqual([off.loginRatePerClient, off.loginRatePerAccount, off.loginRateWindowMs], [0, 0, 60_000])
  assert.throws(() => loadConfig({ LOGIN_CONCURRENCY_PER_HOST: '0' }), /LOGIN_CONCURRENCY_PER_HOST must be an integer ≥ 1/)
})

test('CONNECTION_MAX_AGE_MS defaults to 10 minutes and refuses less than a second', () => {
  assert.equal(loadConfig({}).connectionMaxAgeMs, 600_000)
  assert.equal(loadConfig({ CONNECTION_MAX_AGE_MS: '120000' }).connectionMaxAgeMs, 120_000)
  assert.throws(() => loadConfig({ CONNECTION_MAX_AGE_MS: '10' }), /CONNECTION_MAX_AGE_MS must be an integer ≥ 1000/)
})

test('GRAPHQL_ANONYMOUS_PER_MINUTE defaults to 120; 0 turns the limit off', () => {
  assert.equal(loadConfig({}).graphqlAnonymousPerMinute, 120)
  assert.equal(loadConfig({ GRAPHQL_ANONYMOUS_PER_MINUTE: '0' }).graphqlAnonymousPerMinute, 0)
  assert.throws(() => loadConfig({ GRAPHQL_ANONYMOUS_PER_MINUTE: '-1' }), /GRAPHQL_ANONYMOUS_PER_MINUTE must be an integer ≥ 0/)
})

test('RESPONSE_BUDGET_BYTES takes sizes, defaults to 32 MiB and refuses less than 1 MiB', () => {
  assert.equal(loadConfig({}).responseBudgetBytes, 32 * 1024 * 1024)
  assert.equal(loadConfig({ RESPONSE_BUDGET_BYTES: '64MB' }).responseBudgetBytes, 64 * 1024 * 1024)
  assert.throws(() => loadConfig({ RESPONSE_BUDGET_BYTES: '512kb' }), /RESPONSE_BUDGET_BYTES must be at least 1048576 bytes/)
})

/**
 * /docs in a real headless Chromium, served over plain HTTP under a host name
 * that is not loopback (mapped to 127.0.0.1 inside the browser): the UI loads
 * its own assets over http, renders every operation, and shows no error.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { listOperations, loadOpenApi } from '../../src/http/openapi.ts'
import { chromiumMissing, launchChromium } from '../env/browser.ts'
import { setup } from './helpers.ts'

const HOST = 'mail-gateway.internal.example'
const missing = chromiumMissing()

test('/docs renders over plain HTTP under a non-loopback name, without errors', { skip: missing ?? false, timeout: 120_000 }, async (t) => {
  const { app } = await setup(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  const browser = await launchChromium([HOST])
  t.after(() => browser.close())
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`) })
  page.on('pageerror', e => problems.push(`page error: ${e.message}`))
  page.on('requestfailed', r => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`))
  const requested: string[] = []
  page.on('request', r => requested.push(r.url()))

  await page.goto(`http://${HOST}:${port}/docs`)
  await page.waitForSelector('.opblock', { timeout: 90_000 })
  const operations = await page.locator('.opblock').count()
  assert.equal(operations, listOperations(loadOpenApi()).length, 'every operation is rendered')
  // Swagger UI's own complaints about the document (red boxes) and its load errors
  const errors = await page.locator('.errors-wrapper, .loading-container .info, .swagger-ui .errors').allInnerTexts()
  assert.deepEqual(errors.filter(e => e.trim() !== ''), [], 'no error box')
  assert.deepEqual(problems, [])
  assert.ok(requested.length > 3 && requested.every(u => u.startsWith(`http://${HOST}:${port}/`)), `only this server, over http: ${requested.join(' ')}`)
})

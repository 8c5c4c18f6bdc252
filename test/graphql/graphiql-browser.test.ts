/**
 * GraphiQL in a real headless Chromium with nothing but the gateway reachable
 * (every other request is aborted, as offline or behind a closed proxy): the
 * editor renders from the gateway's own assets.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { chromiumMissing, launchChromium } from '../env/browser.ts'
import { setup } from '../http/helpers.ts'

const missing = chromiumMissing()

test('/graphiql renders offline, from the gateway\'s own assets', { skip: missing ?? false, timeout: 120_000 }, async (t) => {
  const { app } = await setup(t, { GRAPHIQL: 'true' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const browser = await launchChromium()
  t.after(() => browser.close())
  const context = await browser.newContext({ serviceWorkers: 'block' })
  const page = await context.newPage()
  const elsewhere: string[] = []
  await page.route('**/*', async (route) => {
    const url = route.request().url()
    if (url.startsWith(origin + '/')) return await route.continue()
    elsewhere.push(url)
    return await route.abort('internetdisconnected')
  })
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  await page.goto(`${origin}/graphiql`)
  await page.waitForSelector('.graphiql-container', { timeout: 90_000 })
  assert.deepEqual(elsewhere, [], 'nothing is loaded from another host')
  assert.deepEqual(errors, [])
})

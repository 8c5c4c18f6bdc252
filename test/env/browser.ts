/**
 * Headless Chromium (Debian's /usr/bin/chromium, installed by test/run.ts like
 * Dovecot) driven with playwright-core — never a browser download. Every launch
 * gets a fresh temporary profile (playwright's own) and these flags: no sandbox
 * (tests run as root), no GPU, no QUIC, nothing phoned home. `hosts` maps
 * non-loopback names to 127.0.0.1, so a page can be loaded under a real-looking
 * host name over plain HTTP.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { ensurePackages } from './install.ts'

export const CHROMIUM = '/usr/bin/chromium'

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

/** Why the browser tests cannot run here, or null when Chromium is (or could be made) available. */
export function chromiumMissing (): string | null {
  if (existsSync(CHROMIUM)) return null
  try {
    ensurePackages(['chromium'])
  } catch (err) {
    return `Chromium is not installed at ${CHROMIUM} and could not be installed (${(err as Error).message})`
  }
  return existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM}`
}

export async function launchChromium (hosts: string[] = []): Promise<Browser> {
  const rules = hosts.map(h => `MAP ${h} 127.0.0.1`).join(', ')
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...(rules === '' ? [] : [`--host-resolver-rules=${rules}`])],
  })
}

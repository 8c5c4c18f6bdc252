import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, unlinkSync, writeFileSync } from 'node:fs'

/** Debian packages that provide each command the harness runs. */
const NEEDED: Record<string, string[]> = {
  dovecot: ['dovecot-imapd', 'dovecot-pop3d'],
  doveconf: ['dovecot-core'],
  // Dovecot's LMTP server, which the test Postfix delivers to
  '/usr/lib/dovecot/lmtp': ['dovecot-lmtpd'],
  postfix: ['postfix'],
  'redis-server': ['redis-server'],
  openssl: ['openssl'],
  // the browser tests (test/env/browser.ts): Debian's Chromium, never a downloaded build
  chromium: ['chromium'],
}

/** What only the bench runs (bench/wrk.ts): installed when it asks, not for the tests. */
export const BENCH_TOOLS: Record<string, string[]> = { wrk: ['wrk'] }

function has (command: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${command}`], {
    stdio: 'ignore',
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` }
  }).status === 0
}

/**
 * Installs (apt-get, non-interactive) whatever the harness needs and is missing. The
 * packages' own system services are kept from starting with a temporary policy-rc.d.
 */
export function ensurePackages (commands: string[] = Object.keys(NEEDED), table: Record<string, string[]> = NEEDED): void {
  if (!(process.env.PATH ?? '').split(':').includes('/usr/sbin')) {
    process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`
  }
  const wanted = Object.entries(table).filter(([cmd]) => commands.includes(cmd))
  const missing = [...new Set(wanted.filter(([cmd]) => !has(cmd)).flatMap(([, pkgs]) => pkgs))]
  if (missing.length === 0) return
  if (process.getuid?.() !== 0) {
    throw new Error(`missing packages ${missing.join(' ')}: install them (apt-get install -y ${missing.join(' ')})`)
  }
  console.log(`installing ${missing.join(' ')}`)
  const policy = '/usr/sbin/policy-rc.d'
  const ownPolicy = !existsSync(policy)
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
  } finally {
    if (ownPolicy) unlinkSync(policy)
  }
}

/**
 * The gateway's own name and version, from package.json (one level above
 * src/ and dist/ alike), for what it tells other systems about itself (the
 * IMAP ID it sends).
 */
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: unknown, version?: unknown }

export const GATEWAY_NAME = typeof pkg.name === 'string' ? pkg.name : 'mail-gateway'
export const GATEWAY_VERSION = typeof pkg.version === 'string' ? pkg.version : '0.0.0'

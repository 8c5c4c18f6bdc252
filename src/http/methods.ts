/**
 * RFC 9110 method semantics the router does not give by itself: a request for
 * a path that exists under other methods is `405 Method Not Allowed` with an
 * `Allow` header listing them (not a 404), and every GET route answers HEAD
 * (fastify's exposeHeadRoutes; listed in Allow with its GET).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../mail/errors.ts'

export interface RouteEntry {
  method: string
  url: string
}

interface Pattern { test: RegExp, methods: Set<string> }

/** A fastify route URL as a regular expression: `:param` is one segment, `*` the rest. */
function patternOf (url: string): RegExp {
  const parts = url.split(/(:[A-Za-z0-9_]+|\*)/).map((part) => {
    if (part === '*') return '.*'
    if (part.startsWith(':')) return '[^/]+'
    return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  })
  return new RegExp(`^${parts.join('')}$`)
}

/** The methods served at a path, from the routes registered (read once, after start-up). */
export function allowedMethods (routes: () => RouteEntry[]): (path: string) => string[] {
  let patterns: Pattern[] | undefined
  const compile = (): Pattern[] => {
    const byUrl = new Map<string, Set<string>>()
    for (const { method, url } of routes()) {
      if (url === '*') continue // a catch-all (CORS preflights) says nothing about a path
      const set = byUrl.get(url) ?? new Set<string>()
      set.add(method)
      byUrl.set(url, set)
    }
    return [...byUrl].map(([url, methods]) => ({ test: patternOf(url), methods }))
  }
  return (path) => {
    patterns ??= compile()
    const found = new Set<string>()
    for (const p of patterns) if (p.test.test(path)) for (const m of p.methods) found.add(m)
    return [...found].sort()
  }
}

/** The 405 for a path served under other methods, or null when nothing is served there. */
export function methodNotAllowed (request: FastifyRequest, reply: FastifyReply, allowed: string[]): GatewayError | null {
  if (allowed.length === 0) return null
  reply.header('allow', allowed.join(', '))
  return new GatewayError('method-not-allowed', `${request.method} is not served here; allowed: ${allowed.join(', ')}`)
}

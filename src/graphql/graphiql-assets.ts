/**
 * GraphiQL without a CDN: mercurius' page loads React, ReactDOM and GraphiQL
 * from unpkg.com (its main.js, and the service worker that caches them), so
 * offline or behind a proxy that blocks that host it stayed blank. The same
 * builds come from the packages installed with the gateway (versions pinned
 * to what mercurius names) and are served under /graphiql/vendor/; main.js and
 * sw.js are sent with their CDN URLs pointing there. A mercurius whose pages
 * name other URLs fails at start-up, not in a browser.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

const require = createRequire(import.meta.url)
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`, { paths: [process.cwd(), import.meta.dirname] }))

/** CDN URL (as mercurius writes it) → the file of the installed package, served as /graphiql/vendor/<name>. */
const VENDOR: Record<string, { name: string, file: () => string, type: string }> = {
  'https://unpkg.com/react@18.3.1/umd/react.production.min.js': { name: 'react.js', file: () => join(dirname(require.resolve('react')), 'umd/react.production.min.js'), type: 'application/javascript' },
  'https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js': { name: 'react-dom.js', file: () => join(dirname(require.resolve('react-dom')), 'umd/react-dom.production.min.js'), type: 'application/javascript' },
  'https://unpkg.com/graphiql@3.8.3/graphiql.min.js': { name: 'graphiql.js', file: () => require.resolve('graphiql/graphiql.min.js'), type: 'application/javascript' },
  'https://unpkg.com/graphiql@3.8.3/graphiql.min.css': { name: 'graphiql.css', file: () => require.resolve('graphiql/graphiql.min.css'), type: 'text/css' },
  'https://unpkg.com/graphiql@3.8.3/graphiql.css': { name: 'graphiql.css', file: () => require.resolve('graphiql/graphiql.min.css'), type: 'text/css' },
}

/** mercurius' static file with every CDN URL replaced by its vendor path. */
function rewritten (file: string): string {
  let text = readFileSync(join(packageDir('mercurius'), 'static', file), 'utf8')
  for (const [url, { name }] of Object.entries(VENDOR)) text = text.replaceAll(url, `/graphiql/vendor/${name}`)
  const left = /https?:\/\/[^'"\s]*unpkg\.com[^'"\s]*/.exec(text)
  if (left !== null) throw new Error(`GraphiQL assets: mercurius' ${file} loads ${left[0]}, which is not served from the installed packages`)
  return text
}

export function registerGraphiqlAssets (scope: FastifyInstance): void {
  const pages: Record<string, string> = { '/graphiql/main.js': rewritten('main.js'), '/graphiql/sw.js': rewritten('sw.js') }
  const files = new Map<string, { body: Buffer, type: string }>()
  for (const { name, file, type } of Object.values(VENDOR)) files.set(name, { body: readFileSync(file()), type })

  scope.get<{ Params: { name: string } }>('/graphiql/vendor/:name', async (request, reply) => {
    const asset = files.get(request.params.name)
    if (asset === undefined) return await reply.callNotFound()
    return reply.type(asset.type).header('cache-control', 'public, max-age=86400').send(asset.body)
  })

  // mercurius sends main.js and sw.js from its own directory: the body is swapped for the rewritten text
  scope.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const page = pages[request.routeOptions.url ?? '']
    if (page === undefined || reply.statusCode !== 200) return payload
    ;(payload as { destroy?: () => void } | null)?.destroy?.()
    reply.removeHeader('content-length').removeHeader('etag').removeHeader('last-modified')
    reply.type('application/javascript; charset=utf-8')
    return page
  })
}

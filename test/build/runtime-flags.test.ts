// The V8 heap settings and the allocator's environment the gateway runs with (README,
// Performance) are stated once, in package.json's config.nodeArgs and config.mallocEnv:
// `npm start` passes them, the Docker image sets the same NODE_OPTIONS and variables, the
// bench and the memory tests start the gateway with them. This fails when one of them drifts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { productionEnv, productionNodeArgs } from '../../bench/gateway.ts'

const root = new URL('../../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string>, config: { nodeArgs: string, mallocEnv: string } }

test('npm start, the Dockerfile and the bench use package.json config.nodeArgs', () => {
  const args = pkg.config.nodeArgs
  assert.match(args, /--max-old-space-size=\d+/)
  // exec: sh hands its process to node, so the signal npm forwards on stop reaches the gateway
  assert.match(pkg.scripts.start ?? '', /^exec env \$npm_package_config_mallocEnv node \$npm_package_config_nodeArgs /)
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8')
  assert.match(dockerfile, new RegExp(`NODE_OPTIONS="${args}"`))
  assert.deepEqual(productionNodeArgs(), args.split(' '))
  // glibc returns large blocks to the system when freed (the response-memory bound)
  assert.match(pkg.config.mallocEnv, /^MALLOC_MMAP_THRESHOLD_=\d+$/)
  for (const pair of pkg.config.mallocEnv.split(' ')) assert.ok(dockerfile.includes(pair), `Dockerfile sets ${pair}`)
  assert.deepEqual(productionEnv(), Object.fromEntries(pkg.config.mallocEnv.split(' ').map((p) => p.split('='))))
})

test('the flags are ones node accepts, and they bound the heap', () => {
  const oldSpaceMb = Number(/--max-old-space-size=(\d+)/.exec(pkg.config.nodeArgs)?.[1])
  const out = execFileSync(process.execPath, [...pkg.config.nodeArgs.split(' '), '-e',
    'process.stdout.write(String(require("node:v8").getHeapStatistics().heap_size_limit))'], { encoding: 'utf8' })
  const limitMb = Number(out) / 1048576
  assert.ok(limitMb >= oldSpaceMb && limitMb < oldSpaceMb + 64, `heap limit ${limitMb} MB for --max-old-space-size=${oldSpaceMb}`)
})

// Every setting the gateway reads is documented in docs/configuration.md, and
// nothing documented there is a setting the gateway no longer reads.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..', '..')

/** Names read from the environment in src/config.ts: `env.NAME` and `(env, 'NAME')`. */
async function settingsRead (): Promise<Set<string>> {
  const source = await readFile(join(root, 'src', 'config.ts'), 'utf8')
  const names = new Set<string>()
  for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\(env, '([A-Z][A-Z0-9_]+)'/g)) names.add(m[1] ?? m[2] ?? '')
  return names
}

async function settingsDocumented (): Promise<Set<string>> {
  const doc = await readFile(join(root, 'docs', 'configuration.md'), 'utf8')
  return new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map(m => m[1] ?? ''))
}

test('docs/configuration.md lists exactly the settings src/config.ts reads', async () => {
  const read = await settingsRead()
  const documented = await settingsDocumented()
  assert.ok(read.size >= 30, `found ${read.size} settings: the pattern no longer matches src/config.ts`)
  assert.deepEqual([...read].filter(n => !documented.has(n)).sort(), [], 'read but not documented')
  assert.deepEqual([...documented].filter(n => !read.has(n)).sort(), [], 'documented but not read')
})

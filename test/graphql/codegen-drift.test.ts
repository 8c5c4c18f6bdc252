import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generate } from '@graphql-codegen/cli'
import config, { GENERATED_FILE } from '../../codegen.ts'

const root = join(import.meta.dirname, '..', '..')

test('src/graphql/generated.ts is what `npm run codegen` makes from schema/*.graphql', async () => {
  const outputs = await generate({ ...config, cwd: root }, false) as Array<{ filename: string, content: string }>
  const fresh = outputs.find(o => o.filename.endsWith(GENERATED_FILE))
  assert.ok(fresh, `codegen produced ${outputs.map(o => o.filename).join(', ')}`)
  const committed = readFileSync(join(root, GENERATED_FILE), 'utf8')
  assert.ok(fresh.content.length > 1000)
  assert.equal(committed, fresh.content, 'generated types drifted from the SDL: run `npm run codegen` and commit the result')
})

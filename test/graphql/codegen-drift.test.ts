import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { generateTypes, GENERATED_FILE } from '../../codegen.ts'

const root = join(import.meta.dirname, '..', '..')

test('src/graphql/generated.ts is what `npm run codegen` makes from schema/*.graphql', async () => {
  const fresh = await generateTypes()
  const committed = readFileSync(join(root, GENERATED_FILE), 'utf8')
  assert.ok(fresh.length > 1000)
  assert.equal(committed, fresh, 'generated types drifted from the SDL: run `npm run codegen` and commit the result')
})

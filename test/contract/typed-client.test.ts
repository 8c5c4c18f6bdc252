/**
 * openapi.yaml from a client's side: the types openapi-typescript generates
 * from it, used by a small openapi-fetch client (login, a page and the next by
 * nextCursor, a message, the raw bytes, an attachment, logout), compile with
 * tsc — and what the API refuses (both credentials, neither, a numeric date)
 * does not. Compile only; nothing is sent.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import openapiTS, { astToString } from 'openapi-typescript'
import { OPENAPI_PATH } from '../../src/http/openapi.ts'

const root = join(import.meta.dirname, '..', '..')

test('a typed client generated from openapi.yaml compiles, and its refusals do not', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mail-gateway-typed-client-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const ast = await openapiTS(new URL(`file://${OPENAPI_PATH}`))
  await writeFile(join(dir, 'api.d.ts'), astToString(ast))
  await copyFile(join(import.meta.dirname, 'typed-client', 'client.ts.txt'), join(dir, 'client.ts'))
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir')
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      allowImportingTsExtensions: true,
      lib: ['ES2022', 'DOM'],
      types: [],
      skipLibCheck: false,
    },
    files: ['client.ts'],
  }))
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
    () => ({ ok: true, out: '' }),
    (err: { stdout?: string, stderr?: string }) => ({ ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }))
  assert.ok(result.ok, result.out)
})

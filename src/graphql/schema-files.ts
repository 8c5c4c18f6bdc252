/**
 * The SDL in schema/*.graphql is the source of truth: read at start-up, one
 * string per file (sorted, so the build is deterministic), handed to mercurius.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** schema/ from src/graphql (tsx) or dist/src/graphql (compiled). */
export function defaultSchemaDir (): string {
  const candidates = ['../../schema', '../../../schema'].map(p => fileURLToPath(new URL(p, import.meta.url)))
  const found = candidates.find(dir => existsSync(join(dir, 'query.graphql')))
  if (found === undefined) throw new Error(`GraphQL schema not found (looked in ${candidates.join(', ')})`)
  return found
}

export function loadSchemaFiles (dir: string = defaultSchemaDir()): string[] {
  const files = readdirSync(dir).filter(f => f.endsWith('.graphql')).sort()
  if (files.length === 0) throw new Error(`no .graphql files in ${dir}`)
  return files.map(f => readFileSync(join(dir, f), 'utf8'))
}

/** The corpus in test/fixtures/corpus, listed once for the normaliser tests. */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

export const CORPUS_DIR = join(import.meta.dirname, '..', 'fixtures', 'corpus')

/** Relative paths ("enmime/attachment.raw") of every message file, sorted. */
export function corpusFiles (): string[] {
  const out: string[] = []
  for (const d of readdirSync(CORPUS_DIR, { withFileTypes: true })) {
    if (!d.isDirectory()) continue
    for (const f of readdirSync(join(CORPUS_DIR, d.name))) out.push(`${d.name}/${f}`)
  }
  return out.sort()
}

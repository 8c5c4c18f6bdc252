/**
 * Crafted messages whose header block ends without an empty line (RFC 5322
 * §2.2: at the first line that is neither a field nor a continuation), and
 * their reviewed goldens, in test/golden/header-end/. Shared by the normaliser's
 * golden test and the end-to-end test over IMAP and POP3.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const HEADER_END_DIR = join(import.meta.dirname, '..', 'golden', 'header-end')

export interface HeaderEndCase {
  name: string
  raw: Buffer
  goldenPath: string
}

export function headerEndCases (): HeaderEndCase[] {
  return readdirSync(HEADER_END_DIR).filter(f => f.endsWith('.eml')).sort().map(f => ({
    name: f.slice(0, -4),
    raw: readFileSync(join(HEADER_END_DIR, f)),
    goldenPath: join(HEADER_END_DIR, `${f.slice(0, -4)}.json`),
  }))
}

/** The fields a golden holds: what the message shows a reader (no ids or urls, which differ per account). */
export interface ShownFields {
  subject: string | null
  from: unknown
  headers: unknown
  text: string | null
  html: string | null
  preview: string
  hasAttachment: boolean
  attachments: Array<{ filename: string | null, contentType: string, size: number, disposition: string | null }>
}

export function shown (m: ShownFields): ShownFields {
  return {
    subject: m.subject,
    from: m.from,
    headers: m.headers,
    text: m.text,
    html: m.html,
    preview: m.preview,
    hasAttachment: m.hasAttachment,
    attachments: m.attachments.map(a => ({ filename: a.filename, contentType: a.contentType, size: a.size, disposition: a.disposition })),
  }
}

export function readGolden (c: HeaderEndCase): ShownFields {
  return JSON.parse(readFileSync(c.goldenPath, 'utf8')) as ShownFields
}

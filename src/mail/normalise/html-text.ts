/**
 * HTML → plain text, only for the preview of an HTML-only message. A single
 * linear scan over at most MAX_HTML characters: no regex backtracking, no
 * recursion, so pathological HTML (htmllargecallstack.eml) costs nothing.
 * Text between tags is copied in runs, and the scan stops once it has produced
 * `enough` non-whitespace characters (all a preview can show).
 */

const MAX_HTML = 64 * 1024
const SKIP = new Set(['script', 'style', 'head', 'title', 'template'])
const ENTITIES: Record<string, string> = Object.fromEntries([
  ['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"], ['nbsp', ' '], ['copy', '©'],
  ['reg', '®'], ['hellip', '…'], ['mdash', '—'], ['ndash', '–'], ['lsquo', '‘'], ['rsquo', '’'],
  ['ldquo', '“'], ['rdquo', '”'], ['bdquo', '„'], ['bull', '•'], ['euro', '€'], ['zwnj', ''], ['zwj', ''],
  ['auml', 'ä'], ['ouml', 'ö'], ['uuml', 'ü'], ['Auml', 'Ä'], ['Ouml', 'Ö'], ['Uuml', 'Ü'], ['szlig', 'ß'],
  ['eacute', 'é'], ['egrave', 'è'], ['aacute', 'á'], ['agrave', 'à'], ['ccedil', 'ç'],
])
const TAG_NAME = /^[a-z][a-z0-9]*/i
const SPECIAL = /[<&]/g
const SPACES = /\s+/g

function entity (name: string): string | null {
  if (name.startsWith('#')) {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null
    return String.fromCodePoint(code)
  }
  return ENTITIES[name] ?? ENTITIES[name.toLowerCase()] ?? null
}

/** Characters of `s` that `\s` does not match (what survives whitespace collapsing), counted without a list of them. */
function visible (s: string): number {
  return s.replace(SPACES, '').length
}

/** The end of a skipped element: where its closing tag starts (any case), or the end. */
function closingTag (s: string, name: string, from: number): number {
  const re = new RegExp(`</${name}`, 'gi')
  re.lastIndex = from
  return re.exec(s)?.index ?? s.length
}

export function htmlToText (html: string, enough = Infinity): string {
  const s = html.length > MAX_HTML ? html.slice(0, MAX_HTML) : html
  let out = ''
  let shown = 0
  let i = 0
  while (i < s.length && shown < enough) {
    SPECIAL.lastIndex = i
    const next = SPECIAL.exec(s)?.index ?? s.length
    if (next > i) {
      const run = s.slice(i, next)
      out += run
      shown += visible(run)
      i = next
      continue
    }
    if (s[i] === '<') {
      if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4)
        i = end === -1 ? s.length : end + 3
        continue
      }
      const end = s.indexOf('>', i + 1)
      if (end === -1) break
      const name = TAG_NAME.exec(s.slice(i + 1, Math.min(end, i + 40)))?.[0].toLowerCase()
      i = end + 1
      if (name !== undefined && SKIP.has(name) && s[end - 1] !== '/') i = closingTag(s, name, i)
      out += ' '
    } else {
      const rel = s.slice(i + 1, i + 12).indexOf(';')
      const semi = rel === -1 ? -1 : i + 1 + rel
      const decoded = semi !== -1 ? entity(s.slice(i + 1, semi)) : null
      if (decoded === null) {
        out += '&'
        shown++
        i++
      } else {
        out += decoded
        shown += visible(decoded)
        i = semi + 1
      }
    }
  }
  return out
}

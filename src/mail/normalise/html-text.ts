/**
 * HTML → plain text, only for the preview of an HTML-only message. A single
 * linear scan over at most MAX_HTML characters: no regex backtracking, no
 * recursion, so pathological HTML (htmllargecallstack.eml) costs nothing.
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

function entity (name: string): string | null {
  if (name.startsWith('#')) {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null
    return String.fromCodePoint(code)
  }
  return ENTITIES[name] ?? ENTITIES[name.toLowerCase()] ?? null
}

export function htmlToText (html: string): string {
  const s = html.length > MAX_HTML ? html.slice(0, MAX_HTML) : html
  const lower = s.toLowerCase()
  let out = ''
  let i = 0
  while (i < s.length) {
    const c = s[i] as string
    if (c === '<') {
      if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4)
        i = end === -1 ? s.length : end + 3
        continue
      }
      const end = s.indexOf('>', i + 1)
      if (end === -1) break
      const name = /^([a-z][a-z0-9]*)/.exec(lower.slice(i + 1, Math.min(end, i + 40)))?.[1]
      i = end + 1
      if (name && SKIP.has(name) && s[end - 1] !== '/') {
        const close = lower.indexOf(`</${name}`, i)
        i = close === -1 ? s.length : close
      }
      out += ' '
    } else if (c === '&') {
      const rel = s.slice(i + 1, i + 12).indexOf(';')
      const semi = rel === -1 ? -1 : i + 1 + rel
      const decoded = semi !== -1 ? entity(s.slice(i + 1, semi)) : null
      if (decoded === null) { out += c; i++ } else { out += decoded; i = semi + 1 }
    } else {
      out += c
      i++
    }
  }
  return out
}

/**
 * Best-effort RFC 5322 address-list parser → JMAP EmailAddress list (RFC 8621
 * §4.1.2.3): groups are flattened (a group's name is dropped, its members kept;
 * "undisclosed-recipients:;" yields nothing), RFC 2047 words in display names are
 * decoded, a comment stands in for a missing name. Nothing readable is dropped:
 * `email` is whatever the mailbox says, even without an "@" ("Big Bug bb@bug.com"
 * → name "Big Bug", email "bb@bug.com"; "Moderator-Address" → email as is).
 */
import type { Address } from '../types.ts'
import { decodeWords } from './charset.ts'

type Token =
  | { t: 'word', v: string }
  | { t: 'quoted', v: string }
  | { t: 'comment', v: string }
  | { t: 'angle', v: string }
  | { t: 'sep', v: ',' | ';' | ':' }

const ENCODED_WORD = /=\?[^?\s]+\?[bqBQ]\?[^?\s]*\?=/y
/** Whitespace between tokens: every \s, as WORD_END has it (NBSP, U+3000, a BOM, \v, \f…), or a word could end before it starts. */
const SPACE = /\s/
const WORD_END = /[\s"(),:;<>]/

function tokenize (s: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i] as string
    if (SPACE.test(c)) {
      i++
    } else if (c === '"') {
      let v = ''
      i++
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++
        v += s[i]
        i++
      }
      i++
      out.push({ t: 'quoted', v })
    } else if (c === '(') {
      let depth = 1
      let v = ''
      i++
      while (i < s.length && depth > 0) {
        const d = s[i] as string
        if (d === '\\' && i + 1 < s.length) { v += s[i + 1]; i += 2; continue }
        if (d === '(') depth++
        if (d === ')') depth--
        if (depth > 0) v += d
        i++
      }
      out.push({ t: 'comment', v: v.trim() })
    } else if (c === '<') {
      const close = s.indexOf('>', i + 1)
      const end = close === -1 ? s.length : close
      out.push({ t: 'angle', v: s.slice(i + 1, end) })
      i = end + 1
    } else if (c === ',' || c === ';' || c === ':') {
      out.push({ t: 'sep', v: c })
      i++
    } else if (c === ')' || c === '>') {
      i++
    } else {
      let v = ''
      while (i < s.length) {
        ENCODED_WORD.lastIndex = i
        const m = ENCODED_WORD.exec(s)
        if (m) { v += m[0]; i += m[0].length; continue }
        if (WORD_END.test(s[i] as string)) break
        v += s[i]
        i++
      }
      // a word always moves on: were SPACE and WORD_END ever to disagree again, one
      // character is dropped instead of empty words pushed for ever (an out-of-memory loop)
      if (v === '') i++
      else out.push({ t: 'word', v })
    }
  }
  return out
}

function cleanEmail (v: string): string {
  let e = v.replace(/\s+/g, '')
  // obsolete source route "<@a,@b:user@host>"
  if (e.startsWith('@') && e.includes(':')) e = e.slice(e.lastIndexOf(':') + 1)
  if (/^mailto:/i.test(e)) e = e.slice(7)
  return e
}

function text (v: string): string {
  return decodeWords(v).replace(/\s+/g, ' ').trim()
}

function mailbox (tokens: Token[]): Address | null {
  const angle = tokens.findIndex(t => t.t === 'angle')
  const comments = tokens.filter(t => t.t === 'comment').map(t => t.v).filter(Boolean)
  if (angle !== -1) {
    const phrase = tokens.slice(0, angle).filter(t => t.t === 'word' || t.t === 'quoted').map(t => t.v).join(' ')
    const name = text(phrase) || (comments.length ? text(comments.join(' ')) : '')
    const email = cleanEmail((tokens[angle] as Token).v)
    if (!email && !name) return null
    return { name: name || null, email }
  }
  const words = tokens.filter(t => t.t === 'word' || t.t === 'quoted')
  if (words.length === 0) return null
  const commentName = comments.length ? text(comments.join(' ')) || null : null
  const quote = (t: Token): string => t.t === 'quoted' && /[\s@"(),:;<>]/.test(t.v) ? `"${t.v}"` : t.v
  if (words.length === 1) return { name: commentName, email: cleanEmail(quote(words[0] as Token)) }
  // "user @ host" / "user@ host": an addr-spec with stray spaces
  if (words.some(w => w.t === 'word' && (w.v.startsWith('@') || w.v.endsWith('@')))) {
    return { name: commentName, email: words.map(quote).join('') }
  }
  // "Big Bug bb@bug.com": a phrase followed by a bare addr-spec
  const last = words.at(-1) as Token
  if (last.t === 'word' && last.v.includes('@')) {
    return { name: text(words.slice(0, -1).map(w => w.v).join(' ')) || commentName, email: cleanEmail(last.v) }
  }
  return { name: commentName, email: words.map(w => w.v).join(' ') }
}

/** Parse one or more address-list header values (e.g. every To: field) into one list. */
export function parseAddresses (values: string | string[]): Address[] {
  const out: Address[] = []
  for (const value of Array.isArray(values) ? values : [values]) {
    let cur: Token[] = []
    // whether `cur` holds an angle-addr, kept as tokens come: asking `cur` each time was
    // quadratic, and a hostile header of many words held the event loop for seconds
    let angled = false
    const flush = (): void => {
      const a = mailbox(cur)
      if (a) out.push(a)
      cur = []
      angled = false
    }
    for (const tok of tokenize(value)) {
      if (tok.t === 'sep') {
        if (tok.v === ':' && !angled) cur = [] // group name: dropped
        else flush()
      } else {
        // "A <a@x> B <b@x>": a new phrase after an angle-addr starts a new mailbox
        if ((tok.t === 'word' || tok.t === 'quoted' || tok.t === 'angle') && angled) flush()
        cur.push(tok)
        if (tok.t === 'angle') angled = true
      }
    }
    flush()
  }
  return out
}

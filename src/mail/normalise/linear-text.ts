/**
 * String trims the normaliser used to write as regular expressions, which a
 * hostile header or body made quadratic: a trailing-run pattern (CR/LF, ";" and
 * spaces, U+FFFD, each "+$") restarts at every character of a long run that does
 * not reach the end, the fold pattern (blanks, line break, blanks) at every blank
 * of a long run of blanks, and a greedy "(…)" at every "(" without a ")". 40 000
 * such characters held the event loop 1.3–1.9 s, and a header block may hold
 * 1 MiB. These are index loops.
 */

/** `s` without its trailing characters for which `drop` holds. */
export function trimEndWhere (s: string, drop: (char: string) => boolean): string {
  let end = s.length
  while (end > 0 && drop(s[end - 1] as string)) end--
  return end === s.length ? s : s.slice(0, end)
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t'

/** Every line break with the blanks around it becomes one space (an unfolded header value). */
export function unfoldBlanks (s: string): string {
  if (!s.includes('\n')) return s
  const lines = s.split('\n')
  const last = lines.length - 1
  return lines.map((line, i) => {
    let start = 0
    let end = line.length
    if (i > 0) while (start < end && isBlank(line[start] as string)) start++
    if (i < last) while (end > start && isBlank(line[end - 1] as string)) end--
    return line.slice(start, end)
  }).join(' ')
}

/** `s` without what lies between its first "(" and its last ")" (a comment in a header token). */
export function withoutComment (s: string): string {
  const open = s.indexOf('(')
  const close = s.lastIndexOf(')')
  return open !== -1 && close > open ? s.slice(0, open) + s.slice(close + 1) : s
}

/**
 * RFC 5322 §3.3 / §4.3 dates, read leniently.
 *
 * - Comments are ignored, the day name is optional, 2-digit years are 19xx/20xx
 *   (00–49 → 20xx), 3-digit years + 1900, seconds optional, "1:17 PM" understood.
 * - Zones: ±hhmm; UT/GMT/Z = +0000; EST…PDT; a missing zone, military letters
 *   and other alphabetic zones are read as -0000 (unknown local offset) → "Z".
 * - ISO 8601 (`2024-08-24T16:30:00+02:00`) is accepted too.
 * Anything else, or an impossible date (31 Feb, 25:00), → null.
 */

export interface ParsedDate {
  /** The instant as the header wrote it, offset kept: 2024-08-24T16:30:00+02:00 (zero offset → Z). */
  local: string
  /** The same instant in UTC: 2024-08-24T14:30:00Z. */
  utc: string
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const ZONES: Record<string, number> = {
  UT: 0, UTC: 0, GMT: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
}
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

function build (y: number, mo: number, d: number, h: number, mi: number, s: number, off: number): ParsedDate | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60 || y < 1000 || y > 9999) return null
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null
  if (s === 60) s = 59
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - off * 60000
  if (!Number.isFinite(ms)) return null
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  const zone = off === 0 ? 'Z' : `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
  const utc = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
  return { local: `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone}`, utc }
}

function zoneOf (tok: string): number | null | undefined {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(tok)
  if (m) {
    const h = Number(m[2])
    const mi = Number(m[3])
    if (h > 23 || mi > 59) return null
    return (m[1] === '-' ? -1 : 1) * (h * 60 + mi)
  }
  const up = tok.toUpperCase()
  if (up in ZONES) return ZONES[up]
  if (/^[A-Z]{1,5}$/.test(up)) return 0 // military / unknown alphabetic zone: -0000
  return undefined
}

function stripComments (s: string): string {
  let out = ''
  let depth = 0
  for (const c of s) {
    if (c === '(') depth++
    else if (c === ')' && depth > 0) depth--
    else if (depth === 0) out += c
  }
  return out
}

export function parseDate (value: string | null | undefined): ParsedDate | null {
  if (!value) return null
  const s = stripComments(value).trim()
  if (!s || s.length > 200) return null
  const iso = ISO.exec(s)
  if (iso) {
    const z = iso[7] ? (iso[7].toUpperCase() === 'Z' ? 0 : zoneOf(iso[7].replace(':', ''))) : 0
    if (z == null) return null
    return build(Number(iso[1]), Number(iso[2]), Number(iso[3]), Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0), z)
  }
  let day: number | undefined
  let month: number | undefined
  let year: number | undefined
  let time: number[] | undefined
  let pm: boolean | undefined
  let zone: number | undefined
  for (const tok of s.split(/[\s,]+/).filter(Boolean)) {
    const lower = tok.toLowerCase()
    if (time === undefined && /^\d{1,2}:\d{1,2}(?::\d{1,2})?$/.test(tok)) {
      time = tok.split(':').map(Number)
    } else if (/^\d+$/.test(tok)) {
      const n = Number(tok)
      if (day === undefined && tok.length <= 2 && n >= 1 && n <= 31 && (month === undefined || year === undefined)) day = n
      else if (year === undefined && tok.length >= 2 && tok.length <= 4) year = tok.length === 2 ? (n < 50 ? 2000 + n : 1900 + n) : tok.length === 3 ? n + 1900 : n
      else return null
    } else if (month === undefined && MONTHS.includes(lower.slice(0, 3)) && /^[a-z]+\.?$/.test(lower)) {
      month = MONTHS.indexOf(lower.slice(0, 3)) + 1
    } else if (/^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?$/.test(lower)) {
      // day name: ignored
    } else if (pm === undefined && time !== undefined && /^[ap]\.?m\.?$/.test(lower)) {
      pm = lower.startsWith('p')
    } else if (zone === undefined && time !== undefined) {
      const z = zoneOf(tok)
      if (z == null) return null
      zone = z
    } else {
      return null
    }
  }
  if (day === undefined || month === undefined || year === undefined || time === undefined) return null
  let [h = 0, mi = 0, sec = 0] = time
  if (pm !== undefined) {
    if (h < 1 || h > 12) return null
    h = (h % 12) + (pm ? 12 : 0)
  }
  return build(year, month, day, h, mi, sec, zone ?? 0)
}

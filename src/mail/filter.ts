/**
 * List filters as both faces receive them (strings, null for absent) → the
 * service's MessageFilter: one parser, so REST and GraphQL accept exactly the
 * same input. REST's request schema (openapi.yaml IsoDate, SearchText) states
 * the same rules; dates are RFC 3339 full-date or date-time (real calendar
 * dates, seconds required in a date-time, an explicit offset).
 */
import { GatewayError } from './errors.ts'
import type { MessageFilter } from './types.ts'
import { wireSafe } from './wire-safe.ts'

export interface WireFilter {
  unread?: boolean | null
  flagged?: boolean | null
  from?: string | null
  to?: string | null
  subject?: string | null
  text?: string | null
  since?: string | null
  before?: string | null
}

export const MAX_FILTER_TEXT = 1000

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d+)?([Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Proleptic Gregorian, every year 0000–9999 (Date.UTC would read years 0–99 as 19xx). */
function validDay (year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = (MONTH_DAYS[month - 1] ?? 0) + (month === 2 && leap ? 1 : 0)
  return day >= 1 && day <= days
}

/** An RFC 3339 full-date (midnight UTC) or date-time, else null. */
export function parseIsoDate (raw: string): Date | null {
  const m = DATE.exec(raw) ?? DATE_TIME.exec(raw)
  if (m === null || !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) return null
  const d = new Date(m.length > 4 ? raw.replace(' ', 'T').toUpperCase() : `${raw}T00:00:00Z`)
  return Number.isNaN(d.getTime()) ? null : d
}

function date (name: string, raw: string): Date {
  const d = parseIsoDate(raw)
  if (d === null) throw new GatewayError('bad-request', `filter ${name} must be an ISO 8601 (RFC 3339) date or date-time`)
  return d
}

function text (name: string, raw: string): string {
  if (raw.length < 1 || raw.length > MAX_FILTER_TEXT) throw new GatewayError('bad-request', `filter ${name} must be 1–${MAX_FILTER_TEXT} characters`)
  return wireSafe(`filter ${name}`, raw)
}

export function parseMessageFilter (input: WireFilter | null | undefined): MessageFilter {
  const f: MessageFilter = {}
  if (input == null) return f
  if (input.unread != null) f.unread = input.unread
  if (input.flagged != null) f.flagged = input.flagged
  for (const key of ['from', 'to', 'subject', 'text'] as const) {
    const v = input[key]
    if (v != null) f[key] = text(key, v)
  }
  if (input.since != null) f.since = date('since', input.since)
  if (input.before != null) f.before = date('before', input.before)
  return f
}

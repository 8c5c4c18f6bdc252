/**
 * Conditional GETs (RFC 9110 §13.1.2): If-None-Match uses the weak comparison,
 * accepts a list of entity tags and "*".
 */

function opaqueTag (tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag
}

export function ifNoneMatchHits (header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false
  const value = Array.isArray(header) ? header.join(',') : header
  if (value.trim() === '*') return true
  const wanted = opaqueTag(etag)
  for (const m of value.matchAll(/(?:W\/)?"[^"]*"/g)) {
    if (opaqueTag(m[0]) === wanted) return true
  }
  return false
}

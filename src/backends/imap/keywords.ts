/**
 * IMAP flags → JMAP keywords (RFC 8621 §4.1.1).
 * \Seen \Flagged \Answered \Draft become $seen $flagged $answered $draft;
 * \Recent (session state) and \Deleted (pending expunge) are not keywords and
 * are hidden, as is any other system flag; custom keywords are lowercased
 * (JMAP keywords are case-insensitive). Sorted, without duplicates.
 */
const SYSTEM = new Map([
  ['\\seen', '$seen'],
  ['\\flagged', '$flagged'],
  ['\\answered', '$answered'],
  ['\\draft', '$draft'],
]) // a Map: "constructor" and "__proto__" are keywords too, not Object.prototype's properties

export function keywordsOf (flags: Iterable<string> | undefined): string[] {
  const out = new Set<string>()
  for (const flag of flags ?? []) {
    const lower = flag.toLowerCase()
    const system = SYSTEM.get(lower)
    if (system !== undefined) out.add(system)
    else if (!lower.startsWith('\\') && lower !== '') out.add(lower)
  }
  return [...out].sort()
}

const FLAG_OF = new Map([...SYSTEM].map(([flag, keyword]) => [keyword, `\\${flag.slice(1, 2).toUpperCase()}${flag.slice(2)}`]))

/** A JMAP keyword (lower-case, already checked by the core) → the IMAP flag that carries it. */
export function flagOf (keyword: string): string {
  return FLAG_OF.get(keyword) ?? keyword
}

/**
 * FETCH MODSEQ → a decimal string, else null. imapflow asks for MODSEQ in every
 * FETCH once CONDSTORE is enabled (it enables it at login) and returns a BigInt.
 */
export function modseqOf (row: { modseq?: bigint }): string | null {
  return row.modseq === undefined ? null : row.modseq.toString()
}

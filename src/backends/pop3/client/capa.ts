/**
 * CAPA (RFC 2449 §5–6): what the server says it can do. `known: false` means
 * the server has no CAPA at all (an RFC 1939-only server): TOP and UIDL may
 * still work, so callers treat them as "unknown" rather than absent.
 */

export interface Pop3Capabilities {
  known: boolean
  top: boolean
  uidl: boolean
  user: boolean
  pipelining: boolean
  stls: boolean
  respCodes: boolean
  /** SASL mechanisms, upper-cased. */
  sasl: string[]
  /** Minimum days messages are kept; 0 = retrieved messages may be removed at QUIT; null = not stated. */
  expire: number | 'never' | null
  /** Minimum seconds between logins; null when not stated. */
  loginDelay: number | null
  implementation: string | null
}

export const UNKNOWN_CAPABILITIES: Pop3Capabilities = Object.freeze({
  known: false,
  top: false,
  uidl: false,
  user: false,
  pipelining: false,
  stls: false,
  respCodes: false,
  sasl: [],
  expire: null,
  loginDelay: null,
  implementation: null,
}) as Pop3Capabilities

function seconds (word: string | undefined): number | null {
  if (word === undefined || !/^\d{1,9}$/.test(word)) return null
  return Number(word)
}

/** Parses the body of a CAPA reply (latin1 text, CRLF lines). */
export function parseCapa (body: string): Pop3Capabilities {
  const caps: Pop3Capabilities = { ...UNKNOWN_CAPABILITIES, sasl: [], known: true }
  for (const raw of body.split(/\r?\n/)) {
    const words = raw.trim().split(/\s+/)
    const name = words[0]?.toUpperCase()
    switch (name) {
      case 'TOP': caps.top = true; break
      case 'UIDL': caps.uidl = true; break
      case 'USER': caps.user = true; break
      case 'PIPELINING': caps.pipelining = true; break
      case 'STLS': caps.stls = true; break
      case 'RESP-CODES': caps.respCodes = true; break
      case 'SASL': caps.sasl = words.slice(1).map(w => w.toUpperCase()); break
      case 'EXPIRE':
        // "EXPIRE NEVER" | "EXPIRE <days> [USER]"
        caps.expire = words[1]?.toUpperCase() === 'NEVER' ? 'never' : seconds(words[1])
        break
      case 'LOGIN-DELAY': caps.loginDelay = seconds(words[1]); break
      case 'IMPLEMENTATION': caps.implementation = words.slice(1).join(' ').slice(0, 100) || null; break
    }
  }
  return caps
}

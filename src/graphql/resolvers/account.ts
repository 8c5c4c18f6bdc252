/**
 * Capabilities: the REST object is open-ended (`[extra: string]`); the SDL names
 * each key. Every field reads the key of the same name and gives null when it is
 * absent or not of the declared type, so one protocol's keys are null on the other.
 */
import type { Capabilities as CapabilitiesRecord } from '../../mail/types.ts'
import type { Capabilities, CapabilitiesResolvers } from '../generated.ts'

type Kind = 'required' | 'boolean' | 'int' | 'string' | 'strings'

// Typed against the generated type: adding a field to the SDL without listing it here fails tsc.
const KINDS: { [K in Exclude<keyof Capabilities, '__typename'>]-?: Kind } = {
  mailboxes: 'required',
  keywords: 'required',
  search: 'required',
  move: 'required',
  idle: 'required',
  delete: 'boolean',
  append: 'boolean',
  copy: 'boolean',
  manageMailboxes: 'boolean',
  changes: 'boolean',
  send: 'boolean',
  condstore: 'boolean',
  qresync: 'boolean',
  specialUse: 'boolean',
  uidplus: 'boolean',
  esearch: 'boolean',
  sort: 'boolean',
  thread: 'boolean',
  objectId: 'boolean',
  quota: 'boolean',
  imap4rev2: 'boolean',
  appendLimit: 'int',
  top: 'boolean',
  uidl: 'boolean',
  user: 'boolean',
  pipelining: 'boolean',
  stls: 'boolean',
  respCodes: 'boolean',
  sasl: 'strings',
  expire: 'int',
  loginDelay: 'int',
  implementation: 'string',
}

function coerce (value: unknown, kind: Kind): boolean | number | string | string[] | null {
  switch (kind) {
    case 'required': return value === true
    case 'boolean': return typeof value === 'boolean' ? value : null
    case 'int': return typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) < 2 ** 31 ? value : null
    case 'string': return typeof value === 'string' ? value : null
    case 'strings': return Array.isArray(value) && value.every(v => typeof v === 'string') ? value : null
  }
}

export const CapabilitiesType = Object.fromEntries(
  Object.entries(KINDS).map(([name, kind]) => [name, (parent: CapabilitiesRecord) => coerce(parent[name], kind)])
) as CapabilitiesResolvers

/**
 * What a POP3 account can do, as the Account resource reports it (contract
 * §1): the common keys are all false (one mailbox, no keywords, no search, no
 * move, no push; of the writes, only delete is possible), the POP3 keys come straight from CAPA. `top`/`uidl`/`user` are null
 * when the server has no CAPA at all (unknown until tried).
 */
import type { Capabilities } from '../../mail/types.ts'
import type { Pop3Capabilities } from './client/index.ts'

export function accountCapabilities (caps: Pop3Capabilities): Capabilities {
  return {
    mailboxes: false,
    keywords: false,
    search: false,
    move: false,
    idle: false,
    // POP3 can only delete (DELE, committed by QUIT on a session of its own)
    delete: true,
    append: false,
    copy: false,
    manageMailboxes: false,
    // changes diff UIDL snapshots (src/mail/changes.ts); without UIDL there are no ids at all
    changes: !caps.known || caps.uidl,
    top: caps.known ? caps.top : null,
    uidl: caps.known ? caps.uidl : null,
    user: caps.known ? caps.user : null,
    pipelining: caps.pipelining,
    respCodes: caps.respCodes,
    /** Days messages are kept; 0 = may be removed once retrieved; "never"; null = not stated. */
    expire: caps.expire,
    /** Minimum seconds between logins; null = not stated. */
    loginDelay: caps.loginDelay,
    sasl: caps.sasl,
    stls: caps.stls,
    implementation: caps.implementation,
  }
}

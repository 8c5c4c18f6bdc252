/**
 * What one GraphQL response may carry of message bodies, and what all of them
 * together may hold at once.
 *
 * A GraphQL response is one JSON text, built whole before it is sent; the same
 * 2 MiB body asked for by 30 aliases is written 30 times, and a body of control
 * characters is six times larger in JSON. So body values are counted in JSON
 * bytes, per occurrence:
 * - one response carries at most RESPONSE_BODY_JSON_BYTES of them: past that,
 *   `text`/`html` are cut to what is left (possibly to "") and flagged
 *   truncated, as a cut at maxBodyBytes is;
 * - all responses in flight hold at most the process-wide response budget
 *   (twice their JSON bytes: the text and its encoding), taken before a large
 *   value is handed out and given back once the response is sent or
 *   abandoned. A response that cannot get it within the budget's wait is a
 *   `rate-limited` error on that message's body fields.
 */
import { bodyFields, DEFAULT_RESPONSE_BODY_BYTES, type BodyFields } from '../mail/body-view.ts'
import { GatewayError } from '../mail/errors.ts'
import type { Message } from '../mail/types.ts'
import { ByteBudget, type Permit } from '../util/byte-budget.ts'

/** JSON bytes of body values one response carries at most. */
export const RESPONSE_BODY_JSON_BYTES = 8 * 1024 * 1024
/** RESPONSE_BUDGET_BYTES' default: bytes of body JSON held by GraphQL responses at once, process-wide (twice their JSON: text and bytes). */
export const DEFAULT_RESPONSE_BUDGET_BYTES = 32 * 1024 * 1024
/** Values below this many JSON bytes are not worth a budget call (the cost limit bounds them). */
const SMALL_JSON_BYTES = 64 * 1024

/** The maxBodyBytes a message parent was given with (by Query.message or a connection). */
export const BODY_CAP = Symbol('maxBodyBytes')

export type Capped<T extends object> = T & { [BODY_CAP]?: number }

/** A parent for one occurrence of a message in the response, with its cap (the message itself is not copied). */
export function capped<T extends object> (m: T, cap: number): Capped<T> {
  const o = Object.create(m) as Capped<T>
  o[BODY_CAP] = cap
  return o
}

export class BodyAllowance {
  #left = RESPONSE_BODY_JSON_BYTES
  #held = 0
  #queue: Promise<unknown> = Promise.resolve()
  readonly #views = new WeakMap<object, Promise<BodyFields>>()
  readonly #permit: Permit

  constructor (budget: ByteBudget, group: string) {
    this.#permit = budget.permit(group)
  }

  /** The body fields of one occurrence (`parent`), computed once and charged once. */
  fieldsOf (parent: Capped<object>, load: () => Promise<Message>): Promise<BodyFields> {
    let view = this.#views.get(parent)
    if (view === undefined) {
      const cap = parent[BODY_CAP] ?? DEFAULT_RESPONSE_BODY_BYTES
      view = load().then(m => this.#charge(m, cap))
      view.catch(() => {})
      this.#views.set(parent, view)
    }
    return view
  }

  /** One at a time: each cut sees what the ones before left, and the permit is asked for in order. */
  #charge (m: Message, cap: number): Promise<BodyFields> {
    const next = this.#queue.then(async () => {
      const { fields, json } = bodyFields(m, cap, this.#left)
      this.#left -= json
      if (json >= SMALL_JSON_BYTES) {
        const want = this.#held + 2 * json
        // asked again, a permit gives back what it holds first: it never waits holding
        if (!await this.#permit.acquire(want)) {
          this.#held = 0
          throw new GatewayError('rate-limited', 'The gateway is busy sending large message bodies; try again, or ask for a smaller maxBodyBytes')
        }
        this.#held = want
      }
      return fields
    })
    this.#queue = next.catch(() => {})
    return next
  }

  /** Gives the budget back (the response was sent or abandoned). */
  release (): void {
    this.#permit.release()
  }
}

/**
 * The response budget of one GraphQL face: one group (responses are not an
 * account's to share out, and a response waits whole), and a wait of one
 * upstream step at most (requestIdleBoundMs counts it).
 */
export function responseBudget (bytes: number, maxWaitMs: number): ByteBudget {
  return new ByteBudget(bytes, { maxWaitMs, groupShare: 1 })
}

/**
 * Lua scripts as named ioredis commands (defineCommand: EVALSHA, with EVAL
 * when Redis answers NOSCRIPT), shared by the durable-state stores (leases,
 * connection slots, idempotency records, webhooks).
 *
 * Define them when the store is made, not at first use: on the cache's
 * auto-pipelined client, a definition made while a pipeline is queued breaks
 * that pipeline (an uncaught "results[i] is not iterable" ended the process).
 * Defining again is a no-op, so a store may call this for every command.
 */
import type { Redis } from 'ioredis'

export interface ScriptSpec {
  numberOfKeys: number
  lua: string
}

export function withScripts<Commands> (client: Redis, scripts: Readonly<Record<string, ScriptSpec>>): Redis & Commands {
  for (const [name, spec] of Object.entries(scripts)) {
    if (!(name in client)) client.defineCommand(name, spec)
  }
  return client as Redis & Commands
}

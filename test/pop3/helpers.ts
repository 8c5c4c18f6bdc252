/** Shared bits for the POP3 tests: a loopback guard, client options, stream reading. */
import type { Readable } from 'node:stream'
import type { HostGuard } from '../../src/net/host-guard.ts'
import type { Pop3ConnectOptions } from '../../src/backends/pop3/client/index.ts'
import { GatewayError } from '../../src/mail/errors.ts'

/** Lets tests reach 127.0.0.1 (the real guard refuses loopback); counts connection attempts. */
export function loopbackGuard (): HostGuard & { calls: number } {
  const guard = Object.assign(async (host: string) => {
    guard.calls++
    return { host, address: '127.0.0.1', family: 4 as const }
  }, { calls: 0 })
  return guard
}

export function clientOptions (port: number, extra: Partial<Pop3ConnectOptions> = {}): Pop3ConnectOptions {
  return {
    guard: loopbackGuard(),
    host: '127.0.0.1',
    port,
    security: 'none',
    username: 'alice',
    password: 'secret',
    timeoutMs: 2000,
    ...extra,
  }
}

export async function readAll (stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Asserts a promise rejects with a GatewayError of `code`; returns it. */
export async function rejectsWith (p: Promise<unknown>, code: string): Promise<GatewayError> {
  try {
    await p
  } catch (err) {
    if (err instanceof GatewayError && err.code === code) return err
    throw new Error(`expected GatewayError ${code}, got ${String(err)}`, { cause: err })
  }
  throw new Error(`expected GatewayError ${code}, but it resolved`)
}

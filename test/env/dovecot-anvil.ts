// Who is logged in right now, straight from Dovecot's anvil process (the data behind
// `doveadm who`), about 1 ms per query.
import { connect } from 'node:net'
import { HARNESS_ADDRESS } from './imap-append.ts'

export type Protocol = 'imap' | 'pop3'

/** Raw `CONNECT-DUMP`: one `service/ip/user\tpid\trefcount` line per logged-in session. */
async function anvilDump (socketPath: string): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    let data = ''
    socket.setTimeout(3000, () => socket.destroy(new Error('anvil did not answer')))
    socket.on('error', reject)
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8')
      if (data === '\n' || data.endsWith('\n\n')) {
        socket.end()
        resolve(data.split('\n').filter((l) => l !== ''))
      }
    })
    socket.write('VERSION\tanvil\t1\t0\nCONNECT-DUMP\n')
  })
}

/** Logged-in sessions of `username` (optionally of one protocol), harness sessions excluded. */
export async function anvilConnectionCount (socketPath: string, username: string, protocol?: Protocol): Promise<number> {
  let count = 0
  for (const line of await anvilDump(socketPath)) {
    const [ident = '', , refs = '0'] = line.split('\t')
    const [service, ip, ...user] = ident.split('/')
    if (user.join('/') !== username || ip === HARNESS_ADDRESS) continue
    if (protocol !== undefined && service !== protocol) continue
    count += Number(refs)
  }
  return count
}

export interface ConnectionTracker {
  /** Highest count seen so far. */
  readonly max: number
  /** Ends sampling (after one last sample) and reports the highest count and sample count. */
  stop: () => Promise<{ max: number, samples: number }>
}

export function trackConnections (socketPath: string, username: string, protocol?: Protocol): ConnectionTracker {
  let max = 0
  let samples = 0
  const state = { running: true }
  let failure: unknown
  const loop = (async () => {
    while (state.running) {
      try {
        max = Math.max(max, await anvilConnectionCount(socketPath, username, protocol))
        samples++
      } catch (err) {
        failure = err
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 3))
    }
  })()
  return {
    get max () { return max },
    stop: async () => {
      state.running = false
      await loop
      if (failure !== undefined) throw failure
      max = Math.max(max, await anvilConnectionCount(socketPath, username, protocol))
      return { max, samples: samples + 1 }
    }
  }
}

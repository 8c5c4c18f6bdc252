import { createServer, connect } from 'node:net'

/**
 * Picks `n` distinct free loopback ports by binding them all to port 0 at once, then closing.
 * Another process may grab one in between; callers retry the start on EADDRINUSE.
 */
export async function freePorts (n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => resolve(server))
  })))
  const ports = servers.map((s) => {
    const address = s.address()
    if (address === null || typeof address === 'string') throw new Error('unexpected server address')
    return address.port
  })
  await Promise.all(servers.map(async (s) => await new Promise((resolve) => s.close(resolve))))
  return ports
}

/** Resolves true when a TCP connection to host:port is accepted, false when refused. */
export async function canConnect (port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect({ port, host })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Polls until every port accepts (`open: true`) or refuses (`open: false`) connections. */
export async function waitForPorts (ports: number[], open: boolean, timeoutMs = 10_000,
  alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const states = await Promise.all(ports.map(async (p) => await canConnect(p)))
    if (states.every((s) => s === open)) return
    if (!alive()) throw new Error('process exited before its ports ' + (open ? 'opened' : 'closed'))
    if (Date.now() > deadline) {
      throw new Error(`ports ${ports.join(', ')} did not ${open ? 'open' : 'close'} within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 15))
  }
}

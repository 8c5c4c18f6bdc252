/**
 * A loopback TCP proxy to the harness Dovecot that can stand in for faults a
 * real server will not produce on demand: `toServer` and `toClient` may
 * rewrite what passes, `cutAfter` drops both sides without passing the answer back.
 */
import net from 'node:net'

export interface Proxy {
  port: number
  /** Rewrites a chunk the gateway sends, before the server sees it. */
  toServer: (chunk: Buffer) => Buffer
  /** Rewrites a chunk the server sends, before the gateway sees it. */
  toClient: (chunk: Buffer) => Buffer
  /** When true for a chunk the gateway sends: pass it on, then cut both sides before any answer. */
  cutAfter: (chunk: Buffer) => boolean
  cuts: number
  close: () => void
}

export async function startProxy (port: number): Promise<Proxy> {
  const sockets = new Set<net.Socket>()
  const proxy: Proxy = { port: 0, toServer: c => c, toClient: c => c, cutAfter: () => false, cuts: 0, close: () => {} }
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1')
    sockets.add(client).add(upstream)
    let cutting = false
    client.on('data', (chunk) => {
      upstream.write(proxy.toServer(chunk))
      if (!cutting && proxy.cutAfter(chunk)) {
        cutting = true
        // the server gets time to act; its answer is never passed back
        setTimeout(() => { proxy.cuts++; client.destroy(); upstream.destroy() }, 200)
      }
    })
    upstream.on('data', (chunk) => { if (!cutting) client.write(proxy.toClient(chunk)) })
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  proxy.port = (server.address() as net.AddressInfo).port
  proxy.close = () => { for (const s of sockets) s.destroy(); server.close() }
  return proxy
}

/** One HTTP request to a gateway process on loopback, as a client outside it sends it. */
import { request } from 'node:http'

export interface Answer { status: number, body: string }

/** One HTTP request from `from` (a loopback source address: each is its own client for the rate limit). */
export async function call (port: number, method: string, path: string, opts: { token?: string, body?: unknown, from?: string } = {}): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  return await new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method,
      path,
      localAddress: opts.from ?? '127.0.0.1',
      headers: {
        ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      agent: false,
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/**
 * A minimal Server-Sent Events client over node:http for the tests: parses
 * frames as the WHATWG spec does (id, event, data, retry, comments), and
 * lets a test wait, event-driven, for a number of events or for the end.
 */
import { request, type IncomingHttpHeaders } from 'node:http'

export interface SseFrame {
  /** undefined: no `id:` field; '' : an empty `id:` (clears the last event id). */
  id: string | undefined
  event: string
  data: string
  retry: number | undefined
}

export interface SseClient {
  status: number
  headers: IncomingHttpHeaders
  /** The body of a non-200 answer. */
  body: string
  frames: SseFrame[]
  comments: string[]
  /** Resolves once `frames` holds at least n frames (rejects if the stream ends first). */
  frames_: (n: number) => Promise<SseFrame[]>
  /** Resolves once a comment matching `re` has arrived. */
  comment: (re: RegExp) => Promise<string>
  /** Resolves when the server ends the response. */
  ended: Promise<void>
  close: () => void
}

export async function openSse (baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return await new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const frames: SseFrame[] = []
      const comments: string[] = []
      const waiters = new Set<() => void>()
      let done = false
      let buffer = ''
      let current: SseFrame = { id: undefined, event: 'message', data: '', retry: undefined }
      let dataLines: string[] = []
      const wake = (): void => { for (const w of [...waiters]) w() }
      const until = async <T>(ready: () => T | undefined): Promise<T> => await new Promise((resolve, reject) => {
        const check = (): void => {
          const value = ready()
          if (value !== undefined) { waiters.delete(check); resolve(value) } else if (done) { waiters.delete(check); reject(new Error(`stream ended; frames: ${JSON.stringify(frames.map((f) => f.event))}, comments: ${JSON.stringify(comments)}`)) }
        }
        waiters.add(check)
        check()
      })
      let body = ''
      res.setEncoding('utf8')
      const ended = new Promise<void>((resolve) => {
        res.on('close', () => { done = true; wake(); resolve() })
      })
      res.on('data', (chunk: string) => {
        if (res.statusCode !== 200) { body += chunk; return }
        buffer += chunk
        let nl: number
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '')
          buffer = buffer.slice(nl + 1)
          if (line === '') {
            if (dataLines.length > 0 || current.id !== undefined || current.retry !== undefined) {
              frames.push({ ...current, data: dataLines.join('\n') })
            }
            current = { id: undefined, event: 'message', data: '', retry: undefined }
            dataLines = []
            continue
          }
          if (line.startsWith(':')) { comments.push(line.slice(1).trim()); continue }
          const colon = line.indexOf(':')
          const field = colon < 0 ? line : line.slice(0, colon)
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
          if (field === 'id') current.id = value
          else if (field === 'event') current.event = value
          else if (field === 'data') dataLines.push(value)
          else if (field === 'retry') current.retry = Number(value)
        }
        wake()
      })
      const client: SseClient = {
        get status () { return res.statusCode ?? 0 },
        headers: res.headers,
        get body () { return body },
        frames,
        comments,
        frames_: async (n) => await until(() => frames.length >= n ? frames : undefined),
        comment: async (re) => await until(() => comments.find((c) => re.test(c))),
        ended,
        close: () => { req.destroy() },
      }
      if (res.statusCode !== 200) {
        res.on('end', () => { resolve(client) })
        res.resume()
      } else resolve(client)
    })
    req.on('error', reject)
    req.end()
  })
}

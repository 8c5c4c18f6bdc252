/**
 * The worker side of the parse pool: runs one parse per 'start', from the whole
 * message or from chunks that arrive, and answers the result (a plain object:
 * it crosses as a structured clone). A chunk is acknowledged when the parser
 * reads it, so the pool never has more than its window in flight.
 */
import { Readable } from 'node:stream'
import { parentPort } from 'node:worker_threads'
import type { ParsedMessage } from '../backend.ts'
import type { ParseOptions } from '../normalise/index.ts'
import type { FromWorker, ToWorker } from './protocol.ts'

export type ParseFn = (input: Readable | Buffer, opts: ParseOptions) => Promise<ParsedMessage>

interface Current { id: number, queue: Buffer[], ended: boolean, wanting: boolean, stream: Readable }

export function serve (parse: ParseFn): void {
  const port = parentPort
  if (port === null) throw new Error('the parse worker runs in a worker thread')
  const send = (msg: FromWorker): void => { port.postMessage(msg) }
  let current: Current | null = null

  const feed = (c: Current): void => {
    while (c.wanting) {
      const next = c.queue.shift()
      if (next === undefined) {
        if (c.ended) { c.wanting = false; c.stream.push(null) }
        return
      }
      send({ type: 'ack', id: c.id, bytes: next.length })
      c.wanting = c.stream.push(next)
    }
  }

  const run = (id: number, input: Readable | Buffer, opts: ParseOptions): void => {
    parse(input, opts).then(
      result => { send({ type: 'done', id, result }) },
      (err: unknown) => { send({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) }) }
    ).finally(() => { if (current?.id === id) current = null })
  }

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'start') {
      if (msg.whole !== undefined) {
        run(msg.id, Buffer.from(msg.whole.buffer, msg.whole.byteOffset, msg.whole.byteLength), msg.opts)
        return
      }
      const c: Current = {
        id: msg.id,
        queue: [],
        ended: false,
        wanting: false,
        stream: new Readable({ read: () => { c.wanting = true; feed(c) } }),
      }
      current = c
      run(msg.id, c.stream, msg.opts)
      return
    }
    const c = current
    if (c === null || c.id !== msg.id) return
    if (msg.type === 'chunk') c.queue.push(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength))
    else if (msg.type === 'end') c.ended = true
    else { c.stream.destroy(new Error('the input failed')); return }
    feed(c)
  })
}

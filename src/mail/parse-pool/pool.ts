/**
 * A pool of parse workers: parseMessage on other threads, so a cold read costs
 * the event loop only the hand-over and the structured clone of the result.
 *
 * - One parse at a time per worker; more wait in order (their input is not read
 *   while they wait: a queued stream stays paused, so memory is what the parse
 *   budget already allows).
 * - A streamed input stays streamed: chunks are transferred as they arrive, at
 *   most WINDOW_BYTES ahead of what the worker's parser has taken.
 * - A parse that runs past `deadlineMs` has its worker terminated (a hostile
 *   message must not hold a thread); its read fails with 'upstream-timeout', as
 *   a read past the operation deadline does. A worker that dies (an uncaught
 *   error, exit, out of memory) fails only the read it was running, with
 *   'internal'. Either way a new worker takes the next parse.
 * - An input stream's own error rejects with that error, as the inline parse does.
 */
import type { Readable } from 'node:stream'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import type { ParsedMessage } from '../backend.ts'
import { GatewayError } from '../errors.ts'
import type { ParseOptions } from '../normalise/index.ts'
import { ownCopy, type FromWorker, type ToWorker } from './protocol.ts'

/** How far a streamed input may run ahead of the worker's parser (octets). */
export const WINDOW_BYTES = 1024 * 1024

export interface ParsePoolOptions {
  size: number
  /** The longest one parse may run in a worker before it is terminated. */
  deadlineMs: number
  /** The worker module (tests give one with fault hooks); default: worker.ts/.js next to this file. */
  workerUrl?: URL
  /** V8 old-space cap of each worker, MiB (default 128): a parse past it kills only its worker. */
  maxOldGenerationSizeMb?: number
  /** Told when a worker is terminated at the deadline or dies (for a log line; never about the message). */
  onLost?: (reason: 'deadline' | 'died') => void
}

export interface ParsePoolStats {
  workers: number
  busy: number
  queued: number
  /** Workers terminated or lost and replaced since the pool started. */
  replaced: number
  /** The most streamed octets ever posted to a worker and not yet taken by its parser. */
  peakInFlight: number
}

interface Task {
  id: number
  input: Readable | Buffer
  opts: ParseOptions
  settled: boolean
  resolve: (m: ParsedMessage) => void
  reject: (e: unknown) => void
}

interface Slot {
  worker: Worker
  task: Task | null
  timer: NodeJS.Timeout | undefined
  inFlight: number
  /** Called when the window has room again. */
  drained: (() => void) | null
  sink: Writable | null
}

function defaultWorkerUrl (): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url)
}

/**
 * A worker written in TypeScript (dev and tests; dist/ is JS) is loaded through
 * tsx registered in its own thread first: on Node 20 `--import tsx` inherited by
 * a worker does not reach the worker's entry module.
 */
function newWorker (url: URL, opts: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, opts)
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(url.href)
  return new Worker(`import(${api}).then(tsx => { tsx.register(); return import(${entry}) })`, { ...opts, eval: true })
}

export class ParsePool {
  readonly #opts: ParsePoolOptions
  readonly #url: URL
  readonly #slots = new Set<Slot>()
  readonly #queue: Task[] = []
  #nextId = 1
  #replaced = 0
  #peakInFlight = 0
  #closed = false
  #retiring = false

  constructor (opts: ParsePoolOptions) {
    this.#opts = { ...opts, size: Math.max(1, opts.size) }
    this.#url = opts.workerUrl ?? defaultWorkerUrl()
  }

  async parse (input: Readable | Buffer, opts: ParseOptions = {}): Promise<ParsedMessage> {
    if (this.#closed) throw new GatewayError('unavailable', 'the gateway is shutting down')
    return await new Promise<ParsedMessage>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, input, opts, settled: false, resolve, reject })
      this.#pump()
    })
  }

  stats (): ParsePoolStats {
    let busy = 0
    for (const s of this.#slots) if (s.task !== null) busy++
    return { workers: this.#slots.size, busy, queued: this.#queue.length, replaced: this.#replaced, peakInFlight: this.#peakInFlight }
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const t of this.#queue.splice(0)) this.#settle(t, new GatewayError('unavailable', 'the gateway is shutting down'))
    const workers = [...this.#slots].map(s => s.worker)
    for (const s of [...this.#slots]) this.#kill(s, new GatewayError('unavailable', 'the gateway is shutting down'))
    await Promise.all(workers.map(async w => await w.terminate()))
  }

  /** Takes no more parses after those it has: closes once they are done. */
  retire (): void {
    this.#retiring = true
    this.#pump()
  }

  #pump (): void {
    if (this.#retiring && !this.#closed && this.#queue.length === 0 && this.stats().busy === 0) {
      this.close().catch(() => {})
      return
    }
    while (this.#queue.length > 0) {
      let slot: Slot | undefined
      for (const s of this.#slots) if (s.task === null) { slot = s; break }
      if (slot === undefined && this.#slots.size < this.#opts.size) slot = this.#spawn()
      if (slot === undefined) return
      this.#start(slot, this.#queue.shift() as Task)
    }
  }

  #spawn (): Slot {
    const worker = newWorker(this.#url, { resourceLimits: { maxOldGenerationSizeMb: this.#opts.maxOldGenerationSizeMb ?? 128 } })
    const slot: Slot = { worker, task: null, timer: undefined, inFlight: 0, drained: null, sink: null }
    worker.on('message', (msg: FromWorker) => { this.#onMessage(slot, msg) })
    const lost = (): void => { this.#kill(slot, new GatewayError('internal', 'the message could not be parsed'), 'died') }
    worker.on('error', lost)
    worker.on('exit', lost)
    this.#slots.add(slot)
    return slot
  }

  #post (slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(msg, transfer)
  }

  #start (slot: Slot, task: Task): void {
    slot.task = task
    slot.worker.ref()
    slot.timer = setTimeout(() => {
      this.#kill(slot, new GatewayError('upstream-timeout', 'the message could not be read in time'), 'deadline')
    }, this.#opts.deadlineMs)
    if (Buffer.isBuffer(task.input)) {
      const whole = ownCopy(task.input)
      this.#post(slot, { type: 'start', id: task.id, opts: task.opts, whole }, [whole.buffer as ArrayBuffer])
      return
    }
    this.#post(slot, { type: 'start', id: task.id, opts: task.opts })
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (slot.task !== task) { cb(); return }
        const data = ownCopy(chunk)
        slot.inFlight += data.byteLength
        this.#peakInFlight = Math.max(this.#peakInFlight, slot.inFlight)
        this.#post(slot, { type: 'chunk', id: task.id, data }, [data.buffer as ArrayBuffer])
        if (slot.inFlight < WINDOW_BYTES) cb()
        else slot.drained = () => { cb() }
      },
      final: (cb) => {
        if (slot.task === task) this.#post(slot, { type: 'end', id: task.id })
        cb()
      },
    })
    slot.sink = sink
    pipeline(task.input, sink).catch((err: unknown) => {
      // the input failed (a killed worker's own error is already the task's)
      this.#settle(task, err)
      if (slot.task === task) this.#post(slot, { type: 'abort', id: task.id })
    })
  }

  #onMessage (slot: Slot, msg: FromWorker): void {
    const task = slot.task
    if (task === null || task.id !== msg.id) return
    if (msg.type === 'ack') {
      slot.inFlight -= msg.bytes
      const drained = slot.drained
      if (drained !== null && slot.inFlight < WINDOW_BYTES) { slot.drained = null; drained() }
      return
    }
    if (msg.type === 'done') this.#settle(task, null, msg.result)
    else this.#settle(task, new GatewayError('internal', 'the message could not be parsed'))
    this.#free(slot)
    this.#pump()
  }

  #settle (task: Task, err: unknown, result?: ParsedMessage): void {
    if (task.settled) return
    task.settled = true
    if (err === null && result !== undefined) task.resolve(result)
    else task.reject(err)
  }

  #free (slot: Slot): void {
    clearTimeout(slot.timer)
    slot.timer = undefined
    slot.task = null
    slot.inFlight = 0
    slot.drained = null
    slot.sink = null
    slot.worker.unref()
  }

  /** The worker is gone or must go: its task fails with `err`, the next parse gets a new worker. */
  #kill (slot: Slot, err: GatewayError, reason?: 'deadline' | 'died'): void {
    if (!this.#slots.delete(slot)) return
    if (!this.#closed) this.#replaced++
    if (reason !== undefined && !this.#closed) this.#opts.onLost?.(reason)
    const task = slot.task
    const sink = slot.sink
    this.#free(slot)
    if (task !== null) this.#settle(task, err)
    sink?.destroy(err)
    slot.worker.terminate().catch(() => {})
    this.#pump()
  }
}

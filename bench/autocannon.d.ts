/** The part of autocannon 8's programmatic API the bench uses (the package ships no types). */
declare module 'autocannon' {
  interface RequestParams { method?: string, path?: string, headers?: Record<string, string>, body?: string }
  interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    timeout?: number
    headers?: Record<string, string>
    requests?: Array<RequestParams & { setupRequest?: (req: RequestParams) => RequestParams }>
  }
  interface Histogram { p50: number, p99: number, average: number, max: number }
  interface Result {
    duration: number
    latency: Histogram
    requests: Histogram & { total: number }
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
  }
  /** A thenable event emitter ('response' after every response). */
  function autocannon (opts: Options): Promise<Result> & { on: (event: 'response', listener: () => void) => void }
  export default autocannon
}

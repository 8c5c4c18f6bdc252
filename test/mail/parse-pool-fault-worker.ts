/**
 * A parse worker with fault hooks for the pool's tests: a message whose
 * `X-Test-Fault` header says so makes its worker exit, throw outside the parse,
 * loop forever or run out of memory, after parsing it as the real worker does.
 */
import { parseMessage } from '../../src/mail/normalise/index.ts'
import { serve } from '../../src/mail/parse-pool/serve.ts'

serve(async (input, opts) => {
  const parsed = await parseMessage(input, opts)
  const fault = parsed.headers.find(h => h.name.toLowerCase() === 'x-test-fault')?.value
  if (fault === 'exit') process.exit(3)
  if (fault === 'throw') {
    setImmediate(() => { throw new Error('injected fault') })
    return await new Promise(() => {})
  }
  if (fault === 'hang') for (;;) { /* a parser stuck on a hostile message */ }
  if (fault === 'oom') {
    const held: number[][] = []
    for (;;) held.push(new Array<number>(100_000).fill(held.length))
  }
  return parsed
})

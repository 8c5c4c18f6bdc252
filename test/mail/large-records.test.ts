import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LARGE_RECORD_CHARS, isLargeRecord, turnBeforeLarge } from '../../src/mail/large-records.ts'

/** Whether a macrotask queued before `step` ran before `step` finished. */
async function loopTurnedDuring (step: () => Promise<void>): Promise<boolean> {
  let turned = false
  setImmediate(() => { turned = true })
  await step()
  return turned
}

test('a large record waits for the next turn of the event loop; a small one does not', async () => {
  const half = 'x'.repeat(LARGE_RECORD_CHARS / 2)
  const large = { text: half, html: half }
  const small = { text: 'hello', html: null }
  assert.equal(isLargeRecord(large), true)
  assert.equal(isLargeRecord({ text: half, html: null }), false)
  assert.equal(await loopTurnedDuring(() => turnBeforeLarge(large)), true)
  assert.equal(await loopTurnedDuring(() => turnBeforeLarge(small)), false)
})

// A test process that dies abruptly leaves no server and no temp dir behind (tether.ts).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { canConnect } from './ports.ts'

const holder = `
const { testEnv } = await import(${JSON.stringify(new URL('./shared.ts', import.meta.url).href)})
const env = await testEnv()
console.log(JSON.stringify({ dir: env.dovecot.info.dir, ports: env.dovecot.ports, redis: env.redis.port }))
setInterval(() => {}, 1000)
`

async function waitFor (check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return await check()
}

test('SIGKILL of a process holding a private env stops Dovecot and Redis and removes the dir', async () => {
  const env = { ...process.env }
  delete env.TEST_ENV
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', holder], {
    env, stdio: ['ignore', 'pipe', 'inherit']
  })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      if (out.includes('\n')) resolve(out.split('\n')[0]!)
    })
    child.once('exit', () => reject(new Error('holder exited early')))
  })
  const held = JSON.parse(line) as { dir: string, ports: Record<string, number>, redis: number }
  const ports = [...Object.values(held.ports), held.redis]
  assert.ok(existsSync(held.dir))
  for (const port of ports) assert.equal(await canConnect(port), true)
  child.kill('SIGKILL')
  assert.ok(await waitFor(async () => !existsSync(held.dir), 20_000), `${held.dir} still exists`)
  for (const port of ports) assert.ok(await waitFor(async () => !await canConnect(port), 3000), `port ${port} still open`)
})

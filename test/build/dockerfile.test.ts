/**
 * The Dockerfile's recipe, run without a container engine: each instruction of
 * its two stages is carried out in a temporary directory, and the result runs
 * as the image would (its ENV, NODE_OPTIONS included, and its CMD), then its
 * HEALTHCHECK command is run against it. Read from the Dockerfile itself, so
 * the test follows the file. Three departures, to stay fast and harmless:
 * - the build stage's `npm ci` is the worktree's own node_modules (installed
 *   from the same package-lock.json), linked in;
 * - the runtime stage's `npm ci --omit=dev` runs for real, but prefers the
 *   machine's npm cache, and `npm cache clean --force` (which only makes the
 *   image smaller) is skipped, as it would empty that shared cache;
 * - USER is not switched, and the server listens on loopback on a free port.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, it } from 'node:test'
import { promisify } from 'node:util'
import { copyArgs, envPairs, execForm, parseDockerfile, type Stage } from './dockerfile.ts'
import { ROOT, startGatewayProcess } from './gateway-process.ts'

const exec = promisify(execFile)
const tmp = mkdtempSync(join(tmpdir(), 'mgw-dockerfile-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`

async function sh (command: string, cwd: string, env: Record<string, string> = {}): Promise<number> {
  try {
    await exec('sh', ['-c', command], { cwd, env: { ...process.env, PATH, ...env }, maxBuffer: 16 * 1024 * 1024 })
    return 0
  } catch (err) {
    const e = err as { code?: number, stderr?: string }
    if (typeof e.code !== 'number') throw err
    return e.code
  }
}

function copy (sources: string[], dest: string, fromDir: string, toDir: string): void {
  for (const source of sources) {
    const target = dest.endsWith('/') || sources.length > 1 ? join(toDir, dest, source.split('/').pop() as string) : join(toDir, dest)
    mkdirSync(dirname(target), { recursive: true })
    cpSync(join(fromDir, source), target, { recursive: true })
  }
}

it('the Dockerfile builds, installs for production, runs with its NODE_OPTIONS and passes its HEALTHCHECK', { timeout: 400_000 }, async () => {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  assert.equal(stages.length, 2, 'a build stage and a runtime stage')
  const [build, runtime] = stages as [Stage, Stage]
  const dirs: Record<string, string> = { [build.name]: join(tmp, 'build'), [runtime.name]: join(tmp, 'runtime') }
  const env: Record<string, string> = {}
  let healthcheck = ''
  let cmd: string[] = []

  for (const stage of [build, runtime]) {
    const dir = dirs[stage.name] as string
    mkdirSync(dir, { recursive: true })
    for (const { op, args } of stage.instructions) {
      if (op === 'WORKDIR' || op === 'USER') continue
      if (op === 'ENV') Object.assign(env, envPairs(args))
      else if (op === 'EXPOSE') assert.equal(args, env.PORT, 'EXPOSE is the PORT the image sets')
      else if (op === 'COPY') {
        const { from, sources, dest } = copyArgs(args)
        const fromDir = from === null ? ROOT : dirs[from]
        assert.ok(fromDir !== undefined, `COPY --from=${from}: no such stage`)
        copy(sources.map(s => from === null ? s : s.replace(/^\/app\//, '')), dest, fromDir, dir)
      } else if (op === 'RUN') {
        for (const command of args.split(' && ')) {
          if (stage === build && /^npm ci\b/.test(command)) {
            symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
          } else if (/^npm cache clean\b/.test(command)) {
            continue
          } else {
            assert.equal(await sh(command, dir, { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }), 0, `${stage.name}: RUN ${command}`)
          }
        }
      } else if (op === 'HEALTHCHECK') healthcheck = args.replace(/^.*? CMD /, '')
      else if (op === 'CMD') cmd = execForm(args)
      else assert.fail(`an instruction this test does not know: ${op}`)
    }
  }

  const run = dirs[runtime.name] as string
  assert.ok(existsSync(join(run, 'dist', 'server.js')), 'the compiled server is in the image')
  assert.ok(existsSync(join(run, 'node_modules', 'fastify')), 'production dependencies are installed')
  assert.equal(existsSync(join(run, 'node_modules', 'typescript')), false, 'development dependencies are not')
  assert.match(env.NODE_OPTIONS ?? '', /--max-old-space-size=\d+/)
  assert.ok(healthcheck !== '' && cmd[0] === 'node', 'a HEALTHCHECK and a node CMD')

  const gw = await startGatewayProcess(process.execPath, cmd.slice(1), { ...env, PATH }, run)
  try {
    const checkEnv = { ...env, PORT: String(gw.port) }
    assert.equal(await sh(healthcheck, run, checkEnv), 0, 'HEALTHCHECK passes against the running server')
    gw.child.kill('SIGTERM')
    assert.equal(await gw.exited, 0, gw.output())
    assert.notEqual(await sh(healthcheck, run, checkEnv), 0, 'and fails once it has stopped')
  } finally {
    gw.kill()
  }
})

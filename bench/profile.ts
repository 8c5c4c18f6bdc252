/**
 * `node --import tsx bench/profile.ts <cached|cold|warm|attach|raw|list|gql-list> [seconds]`:
 * one scenario against a gateway started with `--cpu-prof`, then the top
 * self-time functions of its profile (the .cpuprofile file is kept in
 * bench/profiles/ for Chrome DevTools / speedscope). `warm` reads the corpus
 * twice and counts only the second pass's samples.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ATTACHMENT_BYTES } from './corpus.ts'
import { startBenchEnv } from './env.ts'
import { getJson, listAll, login, mailboxId, startGatewayProc } from './gateway.ts'
import type { Message } from '../src/mail/types.ts'
import * as s from './scenarios.ts'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount: number }
interface Profile { nodes: ProfileNode[], samples: number[], startTime: number, timeDeltas: number[] }

/** Samples per node id, only those taken within [from, to] (µs of the monotonic clock, which V8's profiler and process.hrtime share). */
function hits (profile: Profile, from: number, to: number): Map<number, number> {
  const counts = new Map<number, number>()
  let t = profile.startTime
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0
    if (t >= from && t <= to) counts.set(id, (counts.get(id) ?? 0) + 1)
  })
  return counts
}

function top (file: string, window: { from: number, to: number }, n = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const counts = hits(profile, window.from, window.to)
  const self = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame
    const where = url.replace(/^file:\/\/\/work\/main\//, '').replace(/.*node_modules\//, 'nm/')
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`
    const count = counts.get(node.id) ?? 0
    self.set(key, (self.get(key) ?? 0) + count)
    total += count
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`).join('\n')
}

const scenario = process.argv[2] ?? 'cached'
const seconds = Number(process.argv[3] ?? 8)
const dir = join(process.cwd(), 'bench', 'profiles')
mkdirSync(dir, { recursive: true })
const env = await startBenchEnv({ imap: Number(process.env.PROFILE_MESSAGES ?? 400), pop3: 10 })
try {
  const gw = await startGatewayProc(env, { redis: true, tsx: false, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${scenario}-${Date.now()}.cpuprofile`] })
  const session = await login(gw.url, env, env.imapUser, 'imap')
  const inbox = await mailboxId(gw.url, session, 'INBOX')
  const ids = (await listAll(gw.url, session, inbox)).map(i => i.id)
  const large = await listAll(gw.url, session, await mailboxId(gw.url, session, 'Large'))
  const big = (p: string): string => large.find(i => i.subject?.startsWith(p) === true)!.id
  const c: s.Ctx = { base: gw.url, session, inbox, ids, rawId: big('Bench: 1 MB'), attachmentId: big('Bench: 8 MB'), attachmentUrl: '', seconds }
  c.attachmentUrl = (await getJson<Message>(gw.url, `/v1/messages/${c.attachmentId}`, session)).attachments[0]!.url
  const before = new Set(readdirSync(dir))
  const rotating = ids.slice(0, 100)
  if (scenario === 'cached') await s.readEach(c, rotating, 8)
  if (scenario === 'warm') await s.readEach(c, ids, 8)
  const window = { from: scenario === 'warm' ? Number(process.hrtime.bigint() / 1000n) : 0, to: Infinity }
  const m = scenario === 'cached'
    ? await s.readRotating(c, rotating, 32)
    : scenario === 'cold' || scenario === 'warm'
      ? await s.readEach(c, ids, 8)
      : scenario === 'raw'
        ? await s.rawDownload(c, 8)
        : scenario === 'list'
          ? await s.listRest(c, 16)
          : scenario === 'gql-list'
            ? await s.listGraphql(c, 16)
            : await s.attachmentDownloads(c, 10, 10, ATTACHMENT_BYTES)
  window.to = scenario === 'warm' ? Number(process.hrtime.bigint() / 1000n) : Infinity
  console.log(`${scenario}: ${m.rps.toFixed(1)} req/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${m.failed} failed`)
  await gw.stop()
  const file = readdirSync(dir).find(f => !before.has(f) && f.startsWith(scenario))
  if (file === undefined) throw new Error('no profile written')
  console.log(`${join('bench/profiles', file)}\n${top(join(dir, file), window)}`)
} finally {
  await env.stop()
}

/**
 * `node --import tsx bench/send.ts`: sends through the gateway (its own
 * process, src/ through tsx, production node flags) to the harness Postfix,
 * which delivers to Dovecot over LMTP. Rows: sends/s of a 10 KB and of a
 * 1 MB raw message (4 at a time, a Sent copy each), and the gateway's peak
 * RSS while 10 sends of 20 MB run at once (bodies generated as they are
 * sent, never held by the bench). BENCH_SEND_COUNT: messages per size row
 * (default 60 and 20).
 */
import { request } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { startDovecot } from '../test/env/dovecot.ts'
import { ensurePackages } from '../test/env/install.ts'
import { startPostfix } from '../test/env/postfix.ts'
import { sizedMessage } from './appends.ts'
import { productionNodeArgs } from './gateway.ts'
import { runOps, type Measured } from './load.ts'
import { startNodeServer } from './procs.ts'

const KB = 1024
const MB = 1024 * KB
const COUNT = Number(process.env.BENCH_SEND_COUNT ?? 0)

ensurePackages(['dovecot', 'doveconf', 'postfix', '/usr/lib/dovecot/lmtp', 'openssl'])
const dovecot = await startDovecot()
const postfix = await startPostfix(dovecot.info)
const gw = await startNodeServer([...productionNodeArgs(), '--import', 'tsx', 'src/server.ts'], {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  GATEWAY_SECRET: 'bench-secret-0123456789abcdef-0123456789',
  MAIL_ALLOWED_HOSTS: '127.0.0.1',
  MAIL_TLS_CA_FILE: dovecot.caFile,
  SEND_RATE_PER_MINUTE: '0',
})
try {
  const [sender, rcpt] = [await dovecot.createUser('sender'), await dovecot.createUser('rcpt')]
  const res = await fetch(`${gw.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      protocol: 'imap',
      host: '127.0.0.1',
      port: dovecot.ports.imaps,
      security: 'tls',
      username: sender.username,
      password: sender.password,
      smtp: { host: '127.0.0.1', port: postfix.info.ports.submission, security: 'starttls' },
    }),
  })
  if (res.status !== 201) throw new Error(`login: ${res.status} ${await res.text()}`)
  const { token } = await res.json() as { token: string }
  const from = `${sender.username}@${postfix.info.domain}`
  const to = `${rcpt.username}@${postfix.info.domain}`

  const send = async (size: number, subject: string): Promise<void> => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(new URL('/v1/messages/send', gw.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', 'content-length': String(size) },
      }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode ?? 0)) })
      req.on('error', reject)
      pipeline(sizedMessage(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n`, size), req).catch(reject)
    })
    if (status !== 200) throw new Error(`send answered ${status}`)
  }
  const row = (name: string, m: Measured, extra = ''): void => {
    console.log(`| ${name} | ${m.ok}/${m.ok + m.failed} | ${m.rps.toFixed(1)} | ${m.p50.toFixed(0)} | ${m.p99.toFixed(0)} | ${extra} |`)
  }
  console.log('| row | ok | sends/s | p50 ms | p99 ms | gateway peak RSS |')
  console.log('|---|---|---|---|---|---|')
  for (const [name, size, amount] of [['10 KB, 4 at a time', 10 * KB, COUNT || 60], ['1 MB, 4 at a time', MB, COUNT || 20]] as const) {
    gw.resetPeak()
    const m = await runOps({ workers: 4, amount, op: async (i) => { await send(size, `bench ${name} #${i}`) } })
    row(name, m, `${(gw.peakRss() / MB).toFixed(0)} MB`)
  }
  gw.resetPeak()
  const large = await runOps({ workers: 10, amount: 10, op: async (i) => { await send(20 * MB, `bench 20 MB #${i}`) } })
  row('20 MB, 10 at once', large, `${(gw.peakRss() / MB).toFixed(0)} MB`)
} finally {
  await gw.stop()
  await postfix.stop()
  await dovecot.stop()
}

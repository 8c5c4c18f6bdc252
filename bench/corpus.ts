/**
 * The bench corpus: the real-world MIME fixtures of test/fixtures/corpus/,
 * repeated to reach the wanted count, plus two generated large messages:
 * a ~1 MB text/html message and one with an 8 MiB (decoded) attachment.
 */
import { randomBytes } from 'node:crypto'
import { readCorpus } from '../test/e2e/direct.ts'

export const ATTACHMENT_BYTES = 8 * 1024 * 1024

/** `count` raw messages cycling through the fixture corpus. */
export function corpusMessages (count: number): Buffer[] {
  const corpus = readCorpus().map(c => c.raw)
  return Array.from({ length: count }, (_, i) => corpus[i % corpus.length]!)
}

function headers (subject: string, contentType: string): string {
  return [
    'From: "Bench Sender" <sender@bench.example>',
    'To: "Bench Reader" <reader@bench.example>',
    `Subject: ${subject}`,
    'Date: Tue, 03 Sep 2024 10:00:00 +0200',
    `Message-ID: <${randomBytes(8).toString('hex')}@bench.example>`,
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
  ].join('\r\n')
}

function base64Lines (data: Buffer): string {
  return data.toString('base64').replace(/.{76}/g, '$&\r\n')
}

/** About `bytes` octets: a multipart/alternative text + html newsletter. */
export function largeTextMessage (bytes = 1024 * 1024): Buffer {
  const para = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. '
  const lines = Math.ceil(bytes / 2 / (para.length + 2))
  const text = Array.from({ length: lines }, (_, i) => `${i} ${para}`).join('\r\n')
  const html = Array.from({ length: lines }, (_, i) => `<p>${i} ${para}</p>`).join('\r\n')
  const b = 'bench-alt-boundary'
  return Buffer.from([
    headers('Bench: 1 MB newsletter', `multipart/alternative; boundary="${b}"`), '',
    `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', text,
    `--${b}`, 'Content-Type: text/html; charset=utf-8', '', html,
    `--${b}--`, '',
  ].join('\r\n'))
}

/** A short text body and an application/octet-stream attachment of `bytes` decoded octets. */
export function attachmentMessage (bytes = ATTACHMENT_BYTES): Buffer {
  const b = 'bench-mixed-boundary'
  return Buffer.from([
    headers('Bench: 8 MB attachment', `multipart/mixed; boundary="${b}"`), '',
    `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', 'The attachment is random bytes.',
    `--${b}`, 'Content-Type: application/octet-stream; name="random.bin"',
    'Content-Disposition: attachment; filename="random.bin"', 'Content-Transfer-Encoding: base64', '',
    base64Lines(randomBytes(bytes)),
    `--${b}--`, '',
  ].join('\r\n'))
}

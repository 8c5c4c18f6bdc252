/**
 * Golden outputs of parseMessage for chosen corpus files (test/golden/normalise/).
 * UPDATE_GOLDEN=1 rewrites them; otherwise a difference fails with a diff.
 * Every golden was checked by hand against its raw message before being accepted.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseMessage } from '../../src/mail/normalise/index.ts'
import { CORPUS_DIR } from './corpus-files.ts'

const GOLDEN_DIR = join(import.meta.dirname, '..', 'golden', 'normalise')

export const GOLDEN_FILES = [
  // RFC 2047 encoded words
  'enmime/qp-utf8-header.raw',
  'enmime/qp-utf8-header-recursed.raw',
  // legacy charsets
  'mikel-mail/japanese_iso_2022.eml',
  'mikel-mail/japanese_shift_jis.eml',
  'mikel-mail/ks_c_5601-1987.eml',
  'mikel-mail/content_transfer_encoding_empty.eml',
  // nesting and message/rfc822
  'mailparser/nested.eml',
  'mikel-mail/attachment_message_rfc822.eml',
  'stalwart-mail-parser/007.eml',
  // inline images
  'enmime/html-mime-inline.raw',
  'enmime/mime-mixed-related.raw',
  // calendar
  'postal-mime/calendar-event.eml',
  // reports
  'mailparser/delivery-status.eml',
  'mikel-mail/multipart_report_multiple_status.eml',
  // malformed MIME
  'enmime/multipart-wo-boundary.raw',
  'enmime/bad-final-boundary.raw',
  'enmime/malformed-base64-attach.raw',
  'enmime/mime-bad-content-type.raw',
  // dates
  'mikel-mail/bad_date_header.eml',
  'mikel-mail/raw_email_with_bad_date.eml',
  // RFC 2231 / encoded filenames
  'mikel-mail/attachment_nonascii_filename.eml',
  'mikel-mail/attachment_with_encoded_name.eml',
  // format=flowed
  'mimekit/issue1130.txt',
]

const goldenPath = (file: string): string => join(GOLDEN_DIR, `${file.replace(/[/.]/g, '_')}.json`)

for (const file of GOLDEN_FILES) {
  test(`golden: ${file}`, async () => {
    const actual = JSON.parse(JSON.stringify(await parseMessage(readFileSync(join(CORPUS_DIR, file)))))
    const path = goldenPath(file)
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(GOLDEN_DIR, { recursive: true })
      writeFileSync(path, JSON.stringify({ file, ...actual }, null, 2) + '\n')
      return
    }
    assert.ok(existsSync(path), `no golden for ${file}: run with UPDATE_GOLDEN=1, then review it`)
    const { file: _file, ...expected } = JSON.parse(readFileSync(path, 'utf8'))
    assert.deepStrictEqual(actual, expected, `${file} differs from ${path}`)
  })
}

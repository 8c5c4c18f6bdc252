/**
 * The HTML preview stops rendering once it has enough visible characters: the
 * preview must be exactly what rendering the whole HTML would give.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { makePreview } from '../../src/mail/normalise/body.ts'
import { htmlToText } from '../../src/mail/normalise/html-text.ts'
import { parseMessage } from '../../src/mail/normalise/index.ts'
import { CORPUS_DIR, corpusFiles } from './corpus-files.ts'

/** The preview from the whole rendering: the reference the early stop must match. */
function previewOfWhole (html: string): string {
  const text = htmlToText(html).replace(/\s+/g, ' ').trim()
  return Array.from(text).slice(0, 256).join('')
}

test('htmlToText: tags, skipped elements, comments and entities', () => {
  assert.equal(
    htmlToText('<p>A&amp;B</p><SCRIPT>x()</script><style>p{}</STYLE><!-- c -->&eacute;&#x1F600;&#65;&bogus;&'),
    ' A&B     é😀A&bogus;&')
  assert.equal(htmlToText('<b>one</b> two <i>three</i>', 4), ' one  two ', 'stops once it has shown enough')
})

test('the preview of every HTML body in the corpus equals the whole rendering\'s', async () => {
  let checked = 0
  for (const file of corpusFiles()) {
    const parsed = await parseMessage(readFileSync(join(CORPUS_DIR, file)))
    if (parsed.html === null) continue
    assert.equal(makePreview(null, parsed.html), previewOfWhole(parsed.html), file)
    checked++
  }
  assert.ok(checked >= 20, `${checked} HTML bodies`)
})

test('the early stop is exact around whitespace, entities and surrogate pairs', () => {
  const pieces = ['<td>', '&nbsp;', '  \n\t ', 'x', '😀', '&amp;', '<br/>', 'word ', '&#32;', '\u00a0', '<style>hidden</style>', 'é']
  let seed = 7
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  for (let round = 0; round < 300; round++) {
    let html = ''
    const n = 100 + rnd(900)
    for (let i = 0; i < n; i++) html += pieces[rnd(pieces.length)]
    assert.equal(makePreview(null, html), previewOfWhole(html), `round ${round}`)
  }
})

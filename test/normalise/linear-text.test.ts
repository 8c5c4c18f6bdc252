/**
 * The index-loop trims of linear-text.ts against the regular expressions they
 * replace, on many short strings made of the characters those patterns care
 * about: the same output, without the quadratic worst case (hostile.test.ts).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { trimEndWhere, unfoldBlanks, withoutComment } from '../../src/mail/normalise/linear-text.ts'

/** Every string over `alphabet` up to `max` characters long (a few thousand). */
function * strings (alphabet: string[], max: number): Generator<string> {
  let level = ['']
  yield ''
  for (let n = 1; n <= max; n++) {
    const next: string[] = []
    for (const s of level) for (const c of alphabet) next.push(s + c)
    yield * next
    level = next
  }
}

const ALL = [' ', '\t', '\n', '\r', ';', '(', ')', 'a', '\uFFFD']

test('trimEndWhere matches the trailing-run patterns it replaces', () => {
  for (const s of strings(ALL, 5)) {
    assert.equal(trimEndWhere(s, c => c === '\r' || c === '\n'), s.replace(/[\r\n]+$/, ''), JSON.stringify(s))
    assert.equal(trimEndWhere(s, c => c === ';' || /\s/.test(c)), s.replace(/[;\s]+$/g, ''), JSON.stringify(s))
    assert.equal(trimEndWhere(s, c => c === '\uFFFD'), s.replace(/\uFFFD+$/, ''), JSON.stringify(s))
  }
})

test('unfoldBlanks matches the fold pattern it replaces', () => {
  for (const s of strings([' ', '\t', '\n', 'a', 'b'], 7)) {
    assert.equal(unfoldBlanks(s), s.replace(/[ \t]*\n[ \t]*/g, ' '), JSON.stringify(s))
  }
})

test('withoutComment matches the greedy comment pattern on one line', () => {
  for (const s of strings(['(', ')', 'a', ' ', ';'], 7)) {
    assert.equal(withoutComment(s), s.replace(/\(.*\)/g, ''), JSON.stringify(s))
  }
})

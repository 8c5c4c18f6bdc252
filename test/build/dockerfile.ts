/**
 * Just enough of a Dockerfile reader for the recipe test: stages, and per stage
 * its instructions in order (continuation lines joined, comments dropped),
 * with ENV pairs, COPY sources and exec-form CMD read out.
 */

export interface Instruction {
  op: string
  args: string
}

export interface Stage {
  name: string
  instructions: Instruction[]
}

export function parseDockerfile (text: string): Stage[] {
  const logical: string[] = []
  let current = ''
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (current === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' '
      continue
    }
    logical.push((current + line).trim())
    current = ''
  }
  const stages: Stage[] = []
  for (const line of logical) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line)
    if (m === null) throw new Error(`unreadable Dockerfile line: ${line}`)
    const [, op = '', args = ''] = m
    if (op === 'FROM') {
      stages.push({ name: / AS (\S+)$/i.exec(args)?.[1] ?? String(stages.length), instructions: [] })
      continue
    }
    const stage = stages.at(-1)
    if (stage === undefined) throw new Error(`${op} before FROM`)
    stage.instructions.push({ op, args: args.replace(/\s+/g, ' ') })
  }
  return stages
}

/** ENV k=v pairs (values optionally double-quoted). */
export function envPairs (args: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("((?:[^"\\]|\\.)*)"|\S*)/g)) {
    out[m[1] as string] = m[3] ?? m[2] ?? ''
  }
  return out
}

/** COPY [--from=stage] src… dest */
export function copyArgs (args: string): { from: string | null, sources: string[], dest: string } {
  const words = args.split(' ')
  const from = words[0]?.startsWith('--from=') === true ? (words.shift() as string).slice('--from='.length) : null
  const dest = words.pop() ?? ''
  return { from, sources: words, dest }
}

/** An exec-form instruction (CMD ["node", …]) as argv. */
export function execForm (args: string): string[] {
  const argv = JSON.parse(args) as unknown
  if (!Array.isArray(argv) || !argv.every(a => typeof a === 'string')) throw new Error(`not exec form: ${args}`)
  return argv
}

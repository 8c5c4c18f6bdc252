/**
 * The splitter's fast path over plain body lines (used by split-lines.ts):
 * where a run of lines that cannot be a MIME boundary ends.
 */

/** On in production; tests turn it off to compare with mailsplit's own line-by-line path. */
export const plainRuns = { skip: true }

const NEWLINE_DASH = Buffer.from('\n-')

/**
 * Where a run of body lines that cannot hold a boundary ends, from a line start
 * `from`, within `limit`: the end of its last complete line, or `from` if none.
 * A boundary line starts with "--" (SafeSplitter.checkBoundary skips only a line
 * break carried from the previous chunk, and runs are skipped only when nothing
 * is carried), so lines that do not start with "-" are plain body lines. Base64
 * has no "-": an attachment is crossed to its boundary in a few native scans
 * instead of a call per line.
 */
export function plainRunEnd (chunk: Buffer, from: number, limit: number): number {
  if (chunk[from] === 0x2d) return from // this line may be a boundary
  // searched within the limit only: a run never scans further than it may skip
  const at = chunk.subarray(from, limit).indexOf(NEWLINE_DASH)
  const end = at === -1 ? chunk.lastIndexOf(0x0a, limit - 1) : from + at // the LF before the next "-" line
  return end < from ? from : end + 1
}

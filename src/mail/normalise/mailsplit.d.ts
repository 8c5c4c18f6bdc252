// Minimal typings for the parts of mailsplit (CommonJS, untyped) the normaliser uses.
declare module 'mailsplit' {
  import type { Transform } from 'node:stream'

  export interface MimeNode {
    type: 'node'
    root: boolean
    parentNode: MimeNode | false
    contentType: string | false
    multipart: string | false
    encoding: string | false
    _boundary: Buffer | false
    getHeaders: () => Buffer
    parseHeaders: () => void
    /** Octets of the header block read so far. */
    _headerlen: number
    /** Set by the normaliser's splitter (see splitter.ts). */
    demoted?: 'no-boundary' | 'depth'
    depth?: number
  }

  export interface SplitterChunk {
    type: 'data' | 'body'
    node: MimeNode
    value: Buffer
  }

  /** processLine's answer: an error, or what the line gave (a part, data or body), and whether it flushes. */
  export type LineCallback = (err?: Error | null, data?: MimeNode | SplitterChunk | false, flush?: boolean) => void

  export interface SplitterOptions {
    ignoreEmbedded?: boolean
    maxHeadSize?: number
    maxChildNodes?: number
  }

  export class Splitter extends Transform {
    constructor (config?: SplitterOptions)
    node: MimeNode
    newNode (parent?: MimeNode | false): void
    compareBoundary (line: Buffer, startpos: number, boundary: Buffer): false | 1 | 2
    checkBoundary (line: Buffer): false | 1 | 2 | 3 | 4
    processLine (line: Buffer | false, final: boolean, next: LineCallback): void
  }

  const mailsplit: { Splitter: typeof Splitter }
  export default mailsplit
}

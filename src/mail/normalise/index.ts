/**
 * The MIME normaliser: raw RFC 5322 message → the contract's Message fields,
 * identical for IMAP and POP3 (see README.md).
 */
export { parseMessage, parseStructure } from './parse.ts'
export { parseHeaderBlock, fieldsFromHeaders } from './fields.ts'
export { classifyParts, dispositionOf, parseBodyStructure } from './classify.ts'
export { extractPart } from './extract.ts'
export type { ExtractedPart } from './extract.ts'
export type { Classified, ParseOptions, PartNode } from './types.ts'

/**
 * The MIME normaliser: raw RFC 5322 message → the contract's Message fields,
 * identical for IMAP and POP3 (see README.md).
 */
export { parseFootprint, parseMessage, parseStructure } from './parse.ts'
export { parseHeaderBlock, fieldsFromHeaders } from './fields.ts'
export { classifyParts, dispositionOf, parseBodyStructure } from './classify.ts'
export { extractPart } from './extract.ts'
export type { ExtractedPart } from './extract.ts'
export type { Classified, ParseOptions, PartNode } from './types.ts'

/**
 * The version of what parseMessage makes of the same bytes. Cached messages are
 * stored under it (message-store.ts): bump it with any change to the normaliser's
 * output, and entries parsed by the old code are never served again.
 * 2: unrecognised Content-Disposition types read as attachment (RFC 2183 §2.8).
 * 3: mailsplit parses header values with libmime 5.6.4 (package.json overrides), not 5.3.7;
 *    a part body of one empty line is empty however the bytes arrive; a line after stray
 *    CRs splits the same way whatever the chunking. (The override follows libmime's
 *    caret range: a new minor release that changes output needs a bump here too.)
 * 4: a header block ends at the first line that is neither a field nor a continuation
 *    (RFC 5322 §2.2): that line starts the body, which had been read as header.
 * 5: a body cut by the normaliser's cap says so (textTruncated / htmlTruncated).
 */
export const NORMALISER_VERSION = 5

/**
 * parseMessage: raw RFC 5322 message → ParsedMessage, streaming. Attachment
 * bytes are only counted; body text is kept under a cap. Never throws for what
 * the message contains; rejects only when the input stream itself errors.
 */
import type { Readable } from 'node:stream'
import type { HeaderFields, ParsedAttachment, ParsedMessage } from '../backend.ts'
import { BodyCollector, DEFAULT_MAX_BODY_BYTES, makePreview } from './body.ts'
import { classifyParts } from './classify.ts'
import { fieldsFromHeaders, parseHeaderBlock } from './fields.ts'
import type { PartNode, ParseOptions } from './types.ts'
import { walk } from './walk.ts'

export function toAttachment (p: PartNode): ParsedAttachment {
  return {
    partId: p.partId,
    filename: p.filename,
    contentType: p.type,
    size: p.size,
    disposition: p.disposition,
    contentId: p.contentId,
  }
}

/** The message's part tree (its root) and its size, without keeping any body text. */
export async function parseStructure (input: Readable | Buffer): Promise<{ root: PartNode | null, size: number }> {
  const { root, size } = await walk(input, {}).done
  return { root: root?.part ?? null, size }
}

export async function parseMessage (input: Readable | Buffer, opts: ParseOptions = {}): Promise<ParsedMessage> {
  const max = Math.max(1, opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES)
  const bodies = new BodyCollector(max)
  const { root, size, prefix } = await walk(input, {
    onData: (info, chunk) => { if (BodyCollector.isCandidate(info)) bodies.add(info, chunk) },
  }).done
  if (!root) {
    // the header block was too much for the splitter: its fields as a summary reads them
    const fields = parseHeaderBlock(prefix)
    return { ...fields, size, preview: '', text: null, html: null, attachments: [], hasAttachment: false }
  }
  const fields: HeaderFields = fieldsFromHeaders(root.headers)
  const c = classifyParts(root.part)
  const text = bodies.join(c.textParts, 'text/plain')
  const html = bodies.join(c.htmlParts, 'text/html')
  return {
    ...fields,
    size,
    preview: makePreview(text, html),
    text,
    html,
    attachments: c.attachments.map(toAttachment),
    hasAttachment: c.hasAttachment,
  }
}

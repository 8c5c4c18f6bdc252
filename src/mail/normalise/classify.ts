/**
 * Body parts vs attachments, after RFC 8621 §4.1.4 parseStructure().
 *
 * textParts / htmlParts are the RFC's textBody / htmlBody. attachments are the
 * RFC's attachments plus any other leaf that is not a text/plain or text/html
 * body part (an inline image in a plain multipart/mixed is in textBody for the
 * RFC, but callers can only download it if it is listed): so "every part that is
 * not a body part, inline images included", in document order. message/rfc822 is
 * one leaf. hasAttachment: an attachment with disposition "attachment", or an
 * attached message.
 */
import type { Classified, PartNode } from './types.ts'

/**
 * A Content-Disposition type as the API reports it, for the full parse and for an
 * IMAP BODYSTRUCTURE alike: none → null; "inline" → inline; any other value is an
 * unrecognised type, which RFC 2183 §2.8 says to treat as "attachment".
 */
export function dispositionOf (type: string | null | undefined): PartNode['disposition'] {
  const value = (type ?? '').toLowerCase().trim()
  if (value === '') return null
  return value.startsWith('inline') ? 'inline' : 'attachment'
}

const isInlineMedia = (type: string): boolean =>
  type.startsWith('image/') || type.startsWith('audio/') || type.startsWith('video/')

const isMessage = (type: string): boolean => type === 'message/rfc822' || type === 'message/global'

function parseStructure (
  parts: PartNode[], multipartType: string, inAlternative: boolean,
  htmlBody: PartNode[] | null, textBody: PartNode[] | null, attachments: PartNode[]
): void {
  const textLength = textBody ? textBody.length : -1
  const htmlLength = htmlBody ? htmlBody.length : -1
  parts.forEach((part, i) => {
    const isMultipart = part.type.startsWith('multipart/')
    const isInline = part.disposition !== 'attachment' &&
      (part.type === 'text/plain' || part.type === 'text/html' || isInlineMedia(part.type)) &&
      (i === 0 || (multipartType !== 'related' && (isInlineMedia(part.type) || !part.filename)))
    if (isMultipart) {
      const sub = part.type.split('/')[1] ?? ''
      parseStructure(part.children, sub, inAlternative || sub === 'alternative', htmlBody, textBody, attachments)
    } else if (isInline) {
      if (multipartType === 'alternative') {
        if (part.type === 'text/plain') textBody?.push(part)
        else if (part.type === 'text/html') htmlBody?.push(part)
        else attachments.push(part)
        return
      } else if (inAlternative) {
        if (part.type === 'text/plain') htmlBody = null
        if (part.type === 'text/html') textBody = null
      }
      textBody?.push(part)
      htmlBody?.push(part)
      if ((!textBody || !htmlBody) && isInlineMedia(part.type)) attachments.push(part)
    } else {
      attachments.push(part)
    }
  })
  if (multipartType === 'alternative' && textBody && htmlBody) {
    if (textLength === textBody.length && htmlLength !== htmlBody.length) {
      for (let i = htmlLength; i < htmlBody.length; i++) textBody.push(htmlBody[i] as PartNode)
    }
    if (htmlLength === htmlBody.length && textLength !== textBody.length) {
      for (let i = textLength; i < textBody.length; i++) htmlBody.push(textBody[i] as PartNode)
    }
  }
}

function leaves (node: PartNode, out: PartNode[]): PartNode[] {
  if (node.type.startsWith('multipart/')) node.children.forEach(c => leaves(c, out))
  else out.push(node)
  return out
}

/** The RFC 8621 lists, verbatim (textBody, htmlBody, attachments). */
export function parseBodyStructure (root: PartNode): { textBody: PartNode[], htmlBody: PartNode[], attachments: PartNode[] } {
  const textBody: PartNode[] = []
  const htmlBody: PartNode[] = []
  const attachments: PartNode[] = []
  parseStructure([root], 'mixed', false, htmlBody, textBody, attachments)
  return { textBody, htmlBody, attachments }
}

export function classifyParts (root: PartNode): Classified {
  const { textBody, htmlBody, attachments } = parseBodyStructure(root)
  const isText = (p: PartNode): boolean => p.type === 'text/plain' || p.type === 'text/html'
  const body = new Set([...textBody, ...htmlBody].filter(isText))
  const listed = new Set(attachments)
  const all = leaves(root, []).filter(p => listed.has(p) || !body.has(p))
  return {
    textParts: textBody,
    htmlParts: htmlBody,
    attachments: all,
    hasAttachment: all.some(p => p.disposition === 'attachment' || isMessage(p.type)),
  }
}

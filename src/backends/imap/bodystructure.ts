/**
 * imapflow's parsed BODYSTRUCTURE → the normaliser's PartNode tree, so a
 * listing's hasAttachment is decided by the same classifyParts() that the
 * full parse uses (no body download needed).
 */
import type { MessageStructureObject } from 'imapflow'
import { dispositionOf } from '../../mail/normalise/index.ts'
import type { PartNode } from '../../mail/normalise/types.ts'

function contentId (id: string | undefined): string | null {
  if (id === undefined) return null
  const bare = id.trim().replace(/^<(.*)>$/, '$1').trim()
  return bare === '' ? null : bare
}

/**
 * BODYSTRUCTURE reports encoded octets; PartNode wants decoded ones. Base64
 * is estimated (76-character lines + CRLF, 4 characters → 3 octets); other
 * encodings are taken as they are.
 */
function decodedSize (node: MessageStructureObject): number {
  const size = node.size ?? 0
  if (node.encoding === 'base64') return Math.floor(size * (76 / 78) * 0.75)
  return size
}

function convert (node: MessageStructureObject, partId: string, depth: number): PartNode {
  const multipart = node.type.startsWith('multipart/')
  const children = multipart && depth < 50
    ? (node.childNodes ?? []).map((child, i) => convert(child, child.part ?? (partId === '' ? String(i + 1) : `${partId}.${i + 1}`), depth + 1))
    : []
  const filename = node.dispositionParameters?.filename ?? node.parameters?.name ?? null
  return {
    partId,
    type: node.type === '' || node.type === '/' ? 'text/plain' : node.type,
    disposition: dispositionOf(node.disposition),
    filename: filename === null || filename === '' ? null : filename,
    contentId: contentId(node.id),
    size: multipart ? 0 : decodedSize(node),
    children,
  }
}

/** The root of a message: "" for a top-level multipart, "1" for a single-part body. */
export function partTreeFromBodystructure (root: MessageStructureObject): PartNode {
  return convert(root, root.type.startsWith('multipart/') ? '' : (root.part ?? '1'), 0)
}

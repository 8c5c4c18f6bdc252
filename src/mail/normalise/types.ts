/**
 * The part tree shared by the normaliser and the IMAP backend (which builds it
 * from BODYSTRUCTURE), so both classify body parts and attachments the same way.
 */

export interface PartNode {
  /**
   * IMAP section number (RFC 3501 §6.4.5): "1", "2.1". A non-multipart message's
   * body is "1"; the top-level multipart itself has no section number and uses "".
   */
  partId: string
  /** Lowercase "type/subtype", no parameters (a multipart without boundary reads as text/plain). */
  type: string
  /** Content-Disposition type; none or an unreadable value ("invalid", "=?utf-8?…") → null. */
  disposition: 'attachment' | 'inline' | null
  /** Content-Disposition filename (RFC 2231), else Content-Type name (RFC 2047 decoded). */
  filename: string | null
  /** Content-ID without <>. */
  contentId: string | null
  /** Decoded octets when known (leaves); 0 for multiparts. */
  size: number
  /** Sub-parts of a multipart, in order. Empty for leaves, including message/rfc822 (never descended). */
  children: PartNode[]
}

export interface Classified {
  textParts: PartNode[]
  htmlParts: PartNode[]
  attachments: PartNode[]
  hasAttachment: boolean
}

export interface ParseOptions {
  /** Cap for each of text and html, in UTF-8 octets (default 2 MiB). */
  maxBodyBytes?: number
}

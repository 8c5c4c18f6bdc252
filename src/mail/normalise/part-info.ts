/**
 * One mailsplit node → PartNode plus what body decoding needs (charset, format).
 * Header values come from the same header code as the message fields.
 */
import libmime from 'libmime'
import type { MimeNode } from 'mailsplit'
import type { Header } from '../types.ts'
import { decodeWords } from './charset.ts'
import { dispositionOf } from './classify.ts'
import { firstValue, splitHeaders } from './headers.ts'
import type { PartNode } from './types.ts'

export interface PartInfo {
  part: PartNode
  headers: Header[]
  charset: string | null
  encoding: string | null
  flowed: boolean
  delSp: boolean
  childCount: number
}

interface Parsed { value: string, params: Record<string, string>, decoded: string[] }

function parseValue (raw: string | null): Parsed {
  if (!raw) return { value: '', params: {}, decoded: [] }
  try {
    const p = libmime.parseHeaderValue(raw)
    const params: Record<string, string> = { ...p.params }
    // "application/pdf name=x.pdf": a parameter missing its ';'
    const [type = '', ...rest] = p.value.trim().split(/\s+/)
    // a name starts a word: without the lookbehind, a long word with no "=" was retried from each of its characters
    const loose = /(?<![\w*-])([\w*-]+)\s*=\s*("[^"]*"|[^\s;]+)/.exec(rest.join(' '))
    if (loose?.[1] && loose[2] && params[loose[1].toLowerCase()] === undefined) {
      params[loose[1].toLowerCase()] = loose[2].replace(/^"|"$/g, '')
    }
    return { value: rest.length ? type : p.value.trim(), params, decoded: p.decodedParams ?? [] }
  } catch {
    return { value: raw.split(';')[0]?.trim() ?? '', params: {}, decoded: [] }
  }
}

const TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/

function normaliseType (node: MimeNode, parent: PartInfo | null, hasHeader: boolean): string {
  if (node.demoted === 'no-boundary') return 'text/plain'
  if (node.demoted === 'depth') return 'application/octet-stream'
  if (!hasHeader && parent?.part.type === 'multipart/digest') return 'message/rfc822'
  const t = String(node.contentType || '').toLowerCase().trim().split(/[\s;]/)[0] ?? ''
  if (TYPE.test(t)) return t
  return t === 'text' || t === '' ? 'text/plain' : 'application/octet-stream'
}

function param (p: Parsed, name: string): string | null {
  const v = p.params[name]
  if (v === undefined) return null
  const text = (p.decoded.includes(name) ? v : decodeWords(v)).replace(/[\r\n\t]+/g, ' ').trim()
  return text || null
}

export function describe (node: MimeNode, parent: PartInfo | null): PartInfo {
  const headers = splitHeaders(node.getHeaders())
  const ctRaw = firstValue(headers, 'content-type')
  const ct = parseValue(ctRaw)
  const cd = parseValue(firstValue(headers, 'content-disposition'))
  const type = normaliseType(node, parent, ctRaw !== null)
  const disposition = dispositionOf(decodeWords(cd.value))
  const cid = (firstValue(headers, 'content-id') ?? '').replace(/[<>\s]/g, '')
  let partId: string
  if (!parent) partId = type.startsWith('multipart/') ? '' : '1'
  else {
    parent.childCount++
    partId = parent.part.partId === '' ? String(parent.childCount) : `${parent.part.partId}.${parent.childCount}`
  }
  const part: PartNode = {
    partId,
    type,
    disposition,
    filename: param(cd, 'filename') ?? param(ct, 'name'),
    contentId: cid || null,
    size: 0,
    children: [],
  }
  parent?.part.children.push(part)
  return {
    part,
    headers,
    charset: ct.params.charset ?? null,
    encoding: node.encoding || null,
    flowed: (ct.params.format ?? '').toLowerCase().trim() === 'flowed',
    delSp: (ct.params.delsp ?? '').toLowerCase().trim() === 'yes',
    childCount: 0,
  }
}

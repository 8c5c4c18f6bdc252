/**
 * Validates real responses against openapi.yaml: the declared statuses, media
 * types and (for JSON) the response schemas, with Ajv in JSON Schema 2020-12
 * mode (OpenAPI 3.1's dialect) and formats. Reusable by any test:
 *
 *   assertResponse(res, 'GET', '/v1/messages/{messageId}')      // res from app.inject
 *   const errors = validateResponse('/v1/account', 'GET', 200, body, 'application/json')
 */
import type { ValidateFunction } from 'ajv'
import { createAjv } from '../../src/http/validation.ts'
import { deref, getOperation, loadOpenApi } from '../../src/http/openapi.ts'
import type { JsonSchema } from '../../src/http/openapi.ts'

interface ResponseObject {
  description?: string
  content?: Record<string, { schema?: JsonSchema }>
}

const doc = loadOpenApi()
const ajv = createAjv({ allErrors: true })
const compiled = new Map<string, ValidateFunction>()

function responseFor (path: string, method: string, status: number): ResponseObject | undefined {
  const op = getOperation(doc, method, path)
  const r = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default
  return r === undefined ? undefined : deref(doc, r) as ResponseObject
}

function mediaType (contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase()
}

function pickContent (content: Record<string, { schema?: JsonSchema }>, type: string | undefined): string | undefined {
  const keys = Object.keys(content)
  if (type === undefined) return keys[0]
  return keys.find(k => k.toLowerCase() === type) ??
    keys.find(k => k.endsWith('/*') && type.startsWith(k.slice(0, -1))) ??
    keys.find(k => k === '*/*')
}

const isJson = (type: string): boolean => type === 'application/json' || type.endsWith('+json')

/**
 * Problems with one response, as readable strings; [] when it conforms.
 * `body` is the parsed JSON for JSON media types (ignored otherwise).
 */
export function validateResponse (path: string, method: string, status: number, body: unknown, contentType?: string): string[] {
  const where = `${method.toUpperCase()} ${path} ${status}`
  const response = responseFor(path, method, status)
  if (response === undefined) return [`${where}: status not declared in openapi.yaml`]
  const content = response.content
  if (content === undefined) {
    return body === undefined || body === '' ? [] : [`${where}: declared without a body, but one was sent`]
  }
  const type = mediaType(contentType)
  const key = pickContent(content, type)
  if (key === undefined) return [`${where}: content type ${String(type)} not declared (${Object.keys(content).join(', ')})`]
  const schema = content[key]?.schema
  if (schema === undefined || !isJson(type ?? key)) return []
  const cacheKey = `${where} ${key}`
  let validate = compiled.get(cacheKey)
  if (validate === undefined) {
    validate = ajv.compile(deref(doc, schema))
    compiled.set(cacheKey, validate)
  }
  if (validate(body)) return []
  return (validate.errors ?? []).map(e => `${where}: ${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
}

export interface ResponseLike {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  body: string
}

/** Throws with every mismatch when an injected response does not conform. */
export function assertResponse (res: ResponseLike, method: string, path: string): void {
  const contentType = res.headers['content-type']
  const type = typeof contentType === 'string' ? contentType : undefined
  const json = type !== undefined && isJson(mediaType(type) ?? '')
  const body = json ? JSON.parse(res.body) as unknown : res.body
  const errors = validateResponse(path, method, res.statusCode, body, type)
  if (errors.length > 0) throw new Error(`response does not match openapi.yaml:\n${errors.join('\n')}`)
}

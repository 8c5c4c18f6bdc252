/**
 * openapi.yaml is the source of truth for the REST face: it is loaded once at
 * start-up and every route's params/querystring/body schema is derived from it,
 * so what the document says and what the gateway validates cannot drift apart.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export type JsonSchema = Record<string, unknown>

export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema?: JsonSchema
}

export interface Operation {
  operationId?: string
  parameters?: Parameter[]
  requestBody?: { required?: boolean, content?: Record<string, { schema?: JsonSchema }> }
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>
  security?: Array<Record<string, string[]>>
}

export type PathItem = Record<string, unknown> & { parameters?: Parameter[] }

export interface OpenApiDocument {
  openapi: string
  paths: Record<string, PathItem>
  components: Record<string, Record<string, unknown>>
  security?: Array<Record<string, string[]>>
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const

/** openapi.yaml at the repository root (same relative place from src/ and dist/). */
export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url))

let cached: OpenApiDocument | undefined

export function loadOpenApi (path = OPENAPI_PATH): OpenApiDocument {
  if (path === OPENAPI_PATH && cached !== undefined) return cached
  const doc = parse(readFileSync(path, 'utf8')) as OpenApiDocument
  if (typeof doc?.openapi !== 'string' || !doc.openapi.startsWith('3.1')) {
    throw new Error(`${path} is not an OpenAPI 3.1 document`)
  }
  if (path === OPENAPI_PATH) cached = doc
  return doc
}

/** Resolve every local `$ref` ("#/components/…") in a value, recursively. */
export function deref<T> (doc: OpenApiDocument, value: T, seen: string[] = []): T {
  if (Array.isArray(value)) return value.map(v => deref(doc, v, seen)) as T
  if (value === null || typeof value !== 'object') return value
  const obj = value as Record<string, unknown>
  if (typeof obj.$ref === 'string') {
    const ref = obj.$ref
    if (seen.includes(ref)) throw new Error(`circular $ref ${ref}`)
    const { $ref: _ignored, ...siblings } = obj
    const target: unknown = deref(doc, resolvePointer(doc, ref), [...seen, ref])
    if (Object.keys(siblings).length === 0) return target as T
    return { allOf: [target], ...deref(doc, siblings, seen) } as T
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) out[k] = deref(doc, v, seen)
  return out as T
}

function resolvePointer (doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`)
  let node: unknown = doc
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`)
  }
  return node
}

export function getOperation (doc: OpenApiDocument, method: string, path: string): Operation {
  const item = doc.paths[path]
  const op = item?.[method.toLowerCase()] as Operation | undefined
  if (item === undefined || op === undefined) throw new Error(`openapi.yaml has no operation ${method.toUpperCase()} ${path}`)
  return op
}

/** Every (method, path) the document declares. */
export function listOperations (doc: OpenApiDocument): Array<{ method: string, path: string }> {
  const out: Array<{ method: string, path: string }> = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) if (item[method] !== undefined) out.push({ method: method.toUpperCase(), path })
  }
  return out
}

/** Path-level and operation-level parameters, dereferenced, operation winning. */
function parametersOf (doc: OpenApiDocument, path: string, op: Operation): Parameter[] {
  const all = [...deref(doc, doc.paths[path]?.parameters ?? []), ...deref(doc, op.parameters ?? [])]
  const byKey = new Map<string, Parameter>()
  for (const p of all) byKey.set(`${p.in}:${p.name}`, p)
  return [...byKey.values()]
}

function objectOf (params: Parameter[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  for (const p of params) {
    properties[p.name] = p.schema ?? {}
    if (p.required === true) required.push(p.name)
  }
  return { type: 'object', properties, required, additionalProperties: false }
}

export interface RouteSchemas {
  params?: JsonSchema
  querystring: JsonSchema
  body?: JsonSchema
}

/**
 * Fastify request schemas for one operation. Unknown query parameters are
 * refused (additionalProperties: false), on every operation.
 */
export function requestSchemas (doc: OpenApiDocument, method: string, path: string): RouteSchemas {
  const op = getOperation(doc, method, path)
  const params = parametersOf(doc, path, op)
  const pathParams = params.filter(p => p.in === 'path')
  const out: RouteSchemas = { querystring: objectOf(params.filter(p => p.in === 'query')) }
  if (pathParams.length > 0) out.params = objectOf(pathParams)
  const body = op.requestBody?.content?.['application/json']?.schema
  // a body that may also be something else (a raw message): the schema applies to JSON only
  const types = Object.keys(op.requestBody?.content ?? {})
  if (body !== undefined) out.body = types.length > 1 ? { content: { 'application/json': { schema: deref(doc, body) } } } : deref(doc, body)
  return out
}

/** Whether the operation needs a bearer token (its own `security`, else the document's). */
export function requiresBearer (doc: OpenApiDocument, method: string, path: string): boolean {
  const security = getOperation(doc, method, path).security ?? doc.security ?? []
  // alternatives (a bearer token or a ticket): the route checks them itself
  return security.length > 0 && security.every(req => Object.hasOwn(req, 'bearerAuth'))
}

/** "/v1/messages/{messageId}" → "/v1/messages/:messageId" */
export function toFastifyPath (path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1')
}

/** "/v1/messages/:messageId" → "/v1/messages/{messageId}" */
export function toOpenApiPath (path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

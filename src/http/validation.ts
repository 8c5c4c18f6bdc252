/**
 * Request validation with Ajv in JSON Schema 2020-12 mode: the dialect of
 * OpenAPI 3.1, so the schemas taken from openapi.yaml mean exactly what the
 * document says. Query strings and path params are coerced from text
 * ("50" → 50, "true" → true); JSON bodies are not (a port of "993" is a 400).
 * Nothing unknown is silently dropped: additionalProperties: false refuses it.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { Options } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

type AddFormats = typeof addFormatsModule.default
const addFormats = ((addFormatsModule as { default?: AddFormats }).default ?? addFormatsModule) as AddFormats

/** OpenAPI annotation keywords that are not JSON Schema 2020-12 vocabulary. */
const OPENAPI_KEYWORDS = ['discriminator', 'xml', 'externalDocs', 'example']

export function createAjv (options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, strict: true, strictRequired: false, strictTypes: false, ...options })
  addFormats(ajv)
  ajv.addFormat('password', true)
  ajv.addVocabulary(OPENAPI_KEYWORDS)
  return ajv
}

/** One Ajv for text parts (coercing, applying defaults), one for bodies (strict types). */
export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  const text = createAjv({ coerceTypes: true, useDefaults: true })
  const body = createAjv({ coerceTypes: false, useDefaults: true })
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object)
}

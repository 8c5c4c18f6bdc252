/**
 * openapi.yaml and schema/*.graphql state the same resources: the same field
 * names, the same nullability, the same value kinds and enum values. GraphQL's
 * single `Message` type is REST's MessageSummary ∪ Message (a field is nullable
 * when either REST schema allows null: hasAttachment on POP3 list items).
 */
import { test } from 'node:test'
import { EVENT_TYPES } from '../../src/mail/events.ts'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  buildSchema, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType,
  type GraphQLInputType, type GraphQLOutputType,
} from 'graphql'
import { parse as parseYaml } from 'yaml'
import { loadSchemaFiles } from '../../src/graphql/schema-files.ts'

type Oas = Record<string, any>
const root = join(import.meta.dirname, '..', '..')
const oas = parseYaml(readFileSync(join(root, 'openapi.yaml'), 'utf8')) as Oas
const schemas = oas.components.schemas as Record<string, Oas>
const sdl = buildSchema(loadSchemaFiles().join('\n'))

/** Fields GraphQL adds on purpose: relations REST reaches by URL. */
const RELATIONS: Record<string, string[]> = { Mailbox: ['messages'] }

const refName = (s: Oas): string | undefined => typeof s.$ref === 'string' ? s.$ref.split('/').pop() : undefined
function deref (s: Oas): Oas {
  const name = refName(s)
  return name === undefined ? s : deref(schemas[name] as Oas)
}

/** A comparable description of a value: kind, nullability, item, enum values. */
interface Shape { kind: string, nullable: boolean, item?: Shape, values?: string[] }

function oasShape (prop: Oas): Shape {
  const name = refName(prop)
  const s = deref(prop)
  const types: string[] = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type]
  const nullable = types.includes('null') || s.nullable === true || (Array.isArray(s.enum) && s.enum.includes(null))
  if (types.includes('array')) return { kind: 'list', nullable, item: oasShape(s.items) }
  if (Array.isArray(s.enum)) return { kind: 'enum', nullable, values: (s.enum as unknown[]).filter(v => v !== null).map(String).sort() }
  if (types.includes('object') || s.properties !== undefined) return { kind: `object:${name ?? '?'}`, nullable }
  const scalar = types.find(t => t !== 'null')
  return { kind: scalar === 'integer' ? 'int' : scalar ?? 'unknown', nullable }
}

function sdlShape (type: GraphQLOutputType | GraphQLInputType): Shape {
  const nullable = !isNonNullType(type)
  const t = getNullableType(type)
  if (isListType(t)) return { kind: 'list', nullable, item: sdlShape(t.ofType) }
  if (isEnumType(t)) return { kind: 'enum', nullable, values: t.getValues().map(v => String(v.value)).sort() }
  if (isObjectType(t)) return { kind: `object:${t.name}`, nullable }
  // an input object is its REST schema's name plus "Input"
  if (isInputObjectType(t)) return { kind: `object:${t.name.replace(/Input$/, '')}`, nullable }
  const scalar = ({ String: 'string', ID: 'string', Int: 'int', Boolean: 'boolean', Float: 'number' } as Record<string, string>)[t.name]
  return { kind: scalar ?? t.name, nullable }
}

/** Properties and required names of an OpenAPI object schema, through allOf. */
function oasObject (name: string): { props: Record<string, Oas>, required: Set<string> } {
  const s = schemas[name]
  assert.ok(s, `openapi.yaml has no components.schemas.${name}`)
  const props: Record<string, Oas> = {}
  const required = new Set<string>()
  for (const part of [...(s.allOf ?? []).map(deref), s]) {
    Object.assign(props, part.properties ?? {})
    for (const r of part.required ?? []) required.add(r)
  }
  return { props, required }
}

function sdlFields (name: string): Record<string, GraphQLOutputType | GraphQLInputType> {
  const t = sdl.getType(name)
  assert.ok(isObjectType(t) || isInputObjectType(t), `SDL has no type ${name}`)
  const skip = RELATIONS[name] ?? []
  return Object.fromEntries(Object.values(t.getFields()).filter(f => !skip.includes(f.name)).map(f => [f.name, f.type]))
}

/** Compare one SDL type with one or more OpenAPI schemas (their union). */
function compare (sdlName: string, oasNames: string[], opts: { input?: boolean } = {}): void {
  const fields = sdlFields(sdlName)
  const union = new Map<string, Shape>()
  for (const oasName of oasNames) {
    const { props, required } = oasObject(oasName)
    for (const [prop, schema] of Object.entries(props)) {
      const shape = oasShape(schema)
      // An optional REST input property is a nullable GraphQL input field.
      if (opts.input === true && !required.has(prop)) shape.nullable = true
      else assert.ok(required.has(prop), `${oasName}.${prop} should be required (always present in responses)`)
      const prev = union.get(prop)
      union.set(prop, prev === undefined ? shape : { ...shape, nullable: prev.nullable || shape.nullable })
    }
  }
  assert.deepEqual(Object.keys(fields).sort(), [...union.keys()].sort(), `${sdlName} fields vs openapi ${oasNames.join(' ∪ ')}`)
  for (const [prop, shape] of union) {
    const field = fields[prop]
    assert.ok(field)
    assert.deepEqual(sdlShape(field), shape, `${sdlName}.${prop}`)
  }
}

test('Account, Mailbox, Address, Attachment, Header and Session match field for field', () => {
  for (const name of ['Account', 'Mailbox', 'Address', 'Attachment', 'Header', 'Session']) compare(name, [name])
})

test('Message is REST MessageSummary ∪ Message', () => {
  compare('Message', ['MessageSummary', 'Message'])
  const summary = sdl.getType('Message')
  assert.ok(isObjectType(summary))
  assert.equal(String(summary.getFields().hasAttachment?.type), 'Boolean', 'nullable: POP3 list items')
})

test('message writes: KeywordUpdate, MessagePlacement and BatchResult match their REST schemas', () => {
  compare('KeywordUpdate', ['KeywordUpdate'])
  compare('MessagePlacement', ['MessagePlacement'])
  const fields = sdlFields('BatchResult')
  assert.deepEqual(Object.keys(fields).sort(), Object.keys(oasObject('BatchResult').props).sort())
})

test('CreateSessionInput matches the POST /v1/sessions body', () => {
  compare('CreateSessionInput', ['CreateSessionRequest'], { input: true })
  compare('SmtpSettingsInput', ['SmtpSettings'], { input: true })
})

test('sendMessage: SendResult and RejectedRecipient match their REST schemas', () => {
  compare('SendResult', ['SendResult'])
  compare('RejectedRecipient', ['RejectedRecipient'])
})

test('the mailbox writes: NewMessage and the create / update inputs match their REST schemas', () => {
  compare('NewMessage', ['NewMessage'])
  compare('CreateMailboxInput', ['CreateMailboxRequest'], { input: true })
  compare('UpdateMailboxInput', ['UpdateMailboxRequest'], { input: true })
})

test('Capabilities: REST\'s always-present keys are non-null Booleans; the SDL\'s extras are nullable', () => {
  const { props, required } = oasObject('Capabilities')
  const fields = sdlFields('Capabilities')
  for (const key of required) assert.deepEqual(sdlShape(fields[key] as GraphQLOutputType), oasShape(props[key] as Oas), key)
  for (const [key, type] of Object.entries(fields)) {
    if (!required.has(key)) assert.ok(!isNonNullType(type), `Capabilities.${key} must be nullable (protocol specific)`)
  }
})

test('MessageConnection carries REST\'s page: items → edges.node, nextCursor → pageInfo.endCursor, total → totalCount', () => {
  const { props } = oasObject('MessagePage')
  assert.deepEqual(Object.keys(props).sort(), ['items', 'nextCursor', 'total'])
  const conn = sdlFields('MessageConnection')
  const edge = sdlFields('MessageEdge')
  const info = sdlFields('PageInfo')
  assert.equal(String(conn.edges), '[MessageEdge!]!')
  assert.equal(String(edge.node), 'Message!')
  assert.deepEqual(sdlShape(info.endCursor as GraphQLOutputType), oasShape(props.nextCursor as Oas))
  assert.deepEqual(sdlShape(conn.totalCount as GraphQLOutputType), { ...oasShape(props.total as Oas), nullable: false })
})

test('the comparison itself notices a differing field', () => {
  assert.throws(() => compare('Address', ['Header']), /Address fields vs openapi Header/)
  assert.throws(() => compare('Attachment', ['Mailbox']), /Attachment fields/)
})

test('MailEvent is the events\' JSON (SSE data), with keywords as a list of { messageId, keywords }', () => {
  assert.ok(schemas.Event !== undefined, 'openapi.yaml states the events (SSE data) as Event')
  const { props, required } = oasObject('Event')
  const fields = sdlFields('MailEvent')
  assert.deepEqual(Object.keys(fields).sort(), Object.keys(props).sort(), 'MailEvent fields vs openapi Event')
  for (const [prop, schema] of Object.entries(props)) {
    // GraphQL enum values cannot hold the dots of event types: the SDL says String!, openapi the enum
    if (prop === 'keywords' || prop === 'type') continue
    // an optional JSON member is a nullable GraphQL field
    const shape = { ...oasShape(schema), ...(required.has(prop) ? {} : { nullable: true }) }
    assert.deepEqual(sdlShape(fields[prop] as GraphQLOutputType), shape, `MailEvent.${prop}`)
  }
  assert.equal(String(fields.type), 'String!')
  assert.deepEqual((props.type as { enum?: string[] }).enum, [...EVENT_TYPES])
  assert.equal(String(fields.keywords), '[MessageKeywords!]')
  const item = sdlFields('MessageKeywords')
  assert.equal(String(item.messageId), 'ID!')
  assert.deepEqual(sdlShape(item.keywords as GraphQLOutputType), { kind: 'list', nullable: false, item: { kind: 'string', nullable: false } })
})

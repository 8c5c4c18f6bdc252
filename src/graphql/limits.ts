/**
 * Query limits, run as GraphQL validation rules before anything executes:
 * - depth: 10 levels of data fields (the schema itself needs 6); introspection
 *   (`__schema`, `__type`) may go to 20, enough for GraphiQL's own query (15);
 * - aliases: at most 30 per document (each alias can be another upstream fetch);
 * - cost: graphql-query-complexity with the `@cost` model declared in the SDL
 *   (page sizes multiply, body fields weigh more, text and html more again
 *   for a maxBodyBytes above its default), computed with the request's
 *   variables after validation (costCheck), since the query text alone cannot say.
 */
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity'
import {
  getDirectiveValues, getOperationAST, GraphQLError, Kind,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode, type ValidationRule,
} from 'graphql'
import { DEFAULT_RESPONSE_BODY_BYTES, MAX_RESPONSE_BODY_BYTES } from '../mail/body-view.ts'
import { GatewayError } from '../mail/errors.ts'

export interface GraphqlLimits {
  maxDepth: number
  maxIntrospectionDepth: number
  maxAliases: number
  maxCost: number
}

export const DEFAULT_LIMITS: GraphqlLimits = { maxDepth: 10, maxIntrospectionDepth: 20, maxAliases: 30, maxCost: 8000 }

const estimators = new WeakMap<GraphQLSchema, ComplexityEstimator>()

interface FieldCost { weight: number, by: string | null, byDefault: unknown, assumedSize: number, bodyBytes: string | null, bodyBytesDefault: unknown, sized: boolean }

/**
 * A sized field (a body) costs one more per this many bytes of the maxBodyBytes
 * in force above its default: asking for more of each body costs more, while a
 * query at the default costs what it did (what one response carries is bounded
 * by its allowance, graphql/body-allowance.ts).
 */
export const BODY_COST_BYTES = 16 * 1024

/**
 * What the estimator carries from sized fields up to the field that sets their
 * maxBodyBytes: graphql-query-complexity calls estimators depth first, children
 * before their parent, so the sized fields counted since the last such parent
 * are exactly those under the current one.
 */
interface CostContext { sized: number }

/**
 * Charges per the SDL's `@cost(weight, multipliedBy, assumedSize)`; 1 + children
 * elsewhere. A page-size argument given as null counts as its SDL default, as the
 * service then serves that default (else `first: null` would cost a page of 1).
 * One estimator per schema: it is asked for on every request.
 */
export function costEstimator (schema: GraphQLSchema): ComplexityEstimator {
  const known = estimators.get(schema)
  if (known !== undefined) return known
  const directive = schema.getDirective('cost')
  // a field's @cost, read from the SDL once (the schema never changes; queries run often)
  const costs = new WeakMap<object, FieldCost | null>()
  const fieldCost = (field: Parameters<ComplexityEstimator>[0]['field']): FieldCost | null => {
    let cost = costs.get(field)
    if (cost === undefined) {
      const values = directive != null && field.astNode != null ? getDirectiveValues(directive, field.astNode) : undefined
      const by = values?.multipliedBy
      const bodyBytes = values?.bodyBytes
      cost = values === undefined
        ? null
        : {
            weight: Number(values.weight),
            by: typeof by === 'string' ? by : null,
            byDefault: typeof by === 'string' ? field.args.find(a => a.name === by)?.defaultValue : undefined,
            assumedSize: typeof values.assumedSize === 'number' ? values.assumedSize : 1,
            bodyBytes: typeof bodyBytes === 'string' ? bodyBytes : null,
            bodyBytesDefault: typeof bodyBytes === 'string' ? field.args.find(a => a.name === bodyBytes)?.defaultValue : undefined,
            sized: values.sized === true,
          }
      costs.set(field, cost)
    }
    return cost
  }
  const estimator: ComplexityEstimator = ({ field, args, childComplexity, context }) => {
    const cost = fieldCost(field)
    if (cost === null) return 1 + childComplexity
    const counted = context as CostContext | undefined
    if (cost.sized && counted !== undefined) counted.sized++
    let bodies = 0
    if (cost.bodyBytes !== null && counted !== undefined) {
      const cap = args[cost.bodyBytes] ?? cost.bodyBytesDefault
      // the largest cap the service accepts, when the argument is not a number it would take
      const bytes = typeof cap === 'number' && cap >= 1 ? Math.min(cap, MAX_RESPONSE_BODY_BYTES) : MAX_RESPONSE_BODY_BYTES
      bodies = counted.sized * Math.ceil(Math.max(0, bytes - DEFAULT_RESPONSE_BODY_BYTES) / BODY_COST_BYTES)
      counted.sized = 0
    }
    const asked = cost.by === null ? undefined : args[cost.by] ?? cost.byDefault
    const size = typeof asked === 'number' ? asked : cost.assumedSize
    // A negative or zero page size must not make a query cheaper.
    return (cost.weight + childComplexity + bodies) * Math.max(1, size)
  }
  estimators.set(schema, estimator)
  return estimator
}

/**
 * The cost check, run once the request's variables are known (a mercurius
 * `preExecution` hook): the page size of `first: $n` is a variable. Refuses
 * with 400 bad-request, before anything executes.
 */
export function costCheck (maxCost: number) {
  const known = new WeakMap<DocumentNode, Map<string, number>>()
  return (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): void => {
    // the operation that will run; none (unknown name, or several and no name): graphql-js
    // runs nothing, and every operation is costed, so a name can never hide a costly one
    const operation = getOperationAST(document, operationName) ?? undefined
    const key = operation === undefined ? null : memoKey(operation, variables)
    let costs = known.get(document)
    let cost = key === null ? undefined : costs?.get(key)
    if (cost === undefined) {
      cost = getComplexity({
        schema,
        query: document,
        estimators: [costEstimator(schema)],
        context: { sized: 0 } satisfies CostContext,
        ...(variables === undefined ? {} : { variables }),
        ...(operation?.name === undefined ? {} : { operationName: operation.name.value }),
      })
      if (key !== null) {
        if (costs === undefined) known.set(document, costs = new Map())
        if (costs.size >= MEMO_ENTRIES) costs.clear()
        costs.set(key, cost)
      }
    }
    if (cost > maxCost) {
      throw new GatewayError('bad-request',
        `Query cost ${cost} exceeds the limit of ${maxCost}: ask for fewer messages (first) or fewer body fields (text, html, attachments, headers).`)
    }
  }
}

const MEMO_KEY_CHARS = 256
const MEMO_ENTRIES = 64

/**
 * A query's cost depends on its text, the operation and only its Int and Boolean
 * variables: page sizes (`first: $n`) and `@include`/`@skip` conditions. Keyed on
 * those alone, a page query is costed once whatever its mailbox id or cursor; a
 * mutation (createSession's variables hold a password) is never remembered, nor
 * an odd key over MEMO_KEY_CHARS.
 */
function memoKey (operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): string | null {
  if (operation.operation !== 'query') return null
  let key = operation.name?.value ?? ''
  for (const def of operation.variableDefinitions ?? []) {
    const type = def.type.kind === Kind.NON_NULL_TYPE ? def.type.type : def.type
    if (type.kind !== Kind.NAMED_TYPE || (type.name.value !== 'Int' && type.name.value !== 'Boolean')) continue
    const name = def.variable.name.value
    // absent (the definition's default applies) differs from an explicit null
    key += `\0${name}=${variables !== undefined && name in variables ? JSON.stringify(variables[name]) : '-'}`
  }
  return key.length <= MEMO_KEY_CHARS ? key : null
}

function aliasRule (maxAliases: number): ValidationRule {
  return (context) => {
    let count = 0
    return {
      Field (node) {
        if (node.alias === undefined) return
        count++
        if (count === maxAliases + 1) {
          context.reportError(new GraphQLError(`Too many aliases: at most ${maxAliases} per request.`, { nodes: node }))
        }
      },
    }
  }
}

interface Depths { data: number, introspection: number }

function depthRule (limits: GraphqlLimits): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>()
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def)
    }
    const memo = new Map<string, number>()
    const visiting = new Set<string>()

    // Relative depth of a selection set; fragment spreads add no level (memoised: no fragment bombs).
    function depth (set: SelectionSetNode): number {
      let max = 0
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) max = Math.max(max, 1 + (sel.selectionSet === undefined ? 0 : depth(sel.selectionSet)))
        else if (sel.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depth(sel.selectionSet))
        else max = Math.max(max, fragmentDepth(sel.name.value))
      }
      return max
    }
    function fragmentDepth (name: string): number {
      const known = memo.get(name)
      if (known !== undefined) return known
      const fragment = fragments.get(name)
      if (fragment === undefined || visiting.has(name)) return 0 // reported by the standard rules
      visiting.add(name)
      const d = depth(fragment.selectionSet)
      visiting.delete(name)
      memo.set(name, d)
      return d
    }
    // The operation's root fields, through fragments (each fragment once: cycles are reported elsewhere).
    function rootFields (set: SelectionSetNode, seen = new Set<string>()): FieldNode[] {
      const out: FieldNode[] = []
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) out.push(sel)
        else if (sel.kind === Kind.INLINE_FRAGMENT) out.push(...rootFields(sel.selectionSet, seen))
        else if (!seen.has(sel.name.value)) {
          seen.add(sel.name.value)
          const fragment = fragments.get(sel.name.value)
          if (fragment !== undefined) out.push(...rootFields(fragment.selectionSet, seen))
        }
      }
      return out
    }
    function split (set: SelectionSetNode): Depths {
      const out: Depths = { data: 0, introspection: 0 }
      for (const field of rootFields(set)) {
        const d = 1 + (field.selectionSet === undefined ? 0 : depth(field.selectionSet))
        if (field.name.value === '__schema' || field.name.value === '__type') out.introspection = Math.max(out.introspection, d)
        else out.data = Math.max(out.data, d)
      }
      return out
    }

    return {
      OperationDefinition (node) {
        const d = split(node.selectionSet)
        if (d.data > limits.maxDepth) {
          context.reportError(new GraphQLError(`Query depth ${d.data} exceeds the limit of ${limits.maxDepth}.`, { nodes: node }))
        }
        if (d.introspection > limits.maxIntrospectionDepth) {
          context.reportError(new GraphQLError(`Introspection depth ${d.introspection} exceeds the limit of ${limits.maxIntrospectionDepth}.`, { nodes: node }))
        }
      },
    }
  }
}

/**
 * For mercurius `validationRules`: the rules that depend on the query text only,
 * so mercurius validates each distinct query once (its parsed-query cache).
 */
export function validationRules (limits: GraphqlLimits): ValidationRule[] {
  return [depthRule(limits), aliasRule(limits.maxAliases)]
}

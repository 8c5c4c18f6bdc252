export { KeyedPool } from './keyed-pool.ts'
export { credentialKey } from './credential-key.ts'
export { PoolClosedError, PoolTimeoutError } from './types.ts'
export type { AcquireOptions, GroupGate, Lease, PoolOptions, PoolStats } from './types.ts'

/** POP3 backend (see README.md): the read side of the API over the project's own POP3 client. */
export { createPop3Backend, Pop3Backend, type Pop3BackendOptions } from './backend.ts'
export { accountCapabilities } from './capabilities.ts'

/** A parse worker: the normaliser's parseMessage, off the main thread (pool.ts). */
import { parseMessage } from '../normalise/index.ts'
import { serve } from './serve.ts'

serve(parseMessage)

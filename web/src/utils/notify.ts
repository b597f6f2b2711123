// Notification levels as the server spells them. The contract says `all`, `mentions`,
// `none`; the generated wire types (and the backend build they come from) say `nothing`
// for the last. The client speaks the contract and reads both.

import type { NotifyLevel } from '../types'

/** A level from the server, in the contract's words; null for none given or unknown. */
export function notifyLevelOf(value: unknown): NotifyLevel | null {
  if (value === 'all' || value === 'mentions' || value === 'none') return value
  if (value === 'nothing') return 'none'
  return null
}

// Emoji reactions: the server's fixed vocabulary (shared/core/src/reactions.rs `VOCABULARY`,
// in its order; a unit test compares the two), the names a screen reader and a tooltip use
// for them, and the pure steps the store and the bubble need: my own reaction laid over
// the server's set while my request is on its way, and who reacted, as a sentence.

import type { Reaction } from '../types'

export interface ReactionKind {
  emoji: string
  /** What a screen reader says and a picker's button is labelled ("Thumbs up"). */
  name: string
}

/** Every reaction there is, in the order the picker shows them and the server lists them. */
export const REACTIONS: readonly ReactionKind[] = [
  { emoji: '👍', name: 'Thumbs up' },
  { emoji: '👎', name: 'Thumbs down' },
  { emoji: '❤️', name: 'Heart' },
  { emoji: '😂', name: 'Tears of joy' },
  { emoji: '😮', name: 'Surprised' },
  { emoji: '😢', name: 'Crying' },
  { emoji: '🎉', name: 'Party popper' },
  { emoji: '🙏', name: 'Folded hands' },
  { emoji: '👀', name: 'Eyes' },
  { emoji: '✅', name: 'Check mark' },
  { emoji: '🔥', name: 'Fire' },
  { emoji: '🚀', name: 'Rocket' },
]

const ORDER = new Map(REACTIONS.map((r, i) => [r.emoji, i]))

/** The emoji's name; the emoji itself for one the vocabulary does not have (a newer server's). */
export function reactionName(emoji: string): string {
  return REACTIONS[ORDER.get(emoji) ?? -1]?.name ?? emoji
}

/** Whether `userId` reacted with `emoji`. */
export function hasReacted(reactions: readonly Reaction[], emoji: string, userId: string | null | undefined): boolean {
  return !!userId && reactions.some((r) => r.emoji === emoji && r.userIds.includes(userId))
}

/**
 * `reactions` with `userId`'s `emoji` added or taken away: a new list, in the vocabulary's
 * order, user ids sorted as the server sorts them, without emoji nobody has any more.
 */
export function withReaction(reactions: readonly Reaction[], emoji: string, userId: string, add: boolean): Reaction[] {
  const out = reactions.map((r) => ({ emoji: r.emoji, userIds: [...r.userIds] }))
  let entry = out.find((r) => r.emoji === emoji)
  if (add && !entry) {
    entry = { emoji, userIds: [] }
    out.push(entry)
    out.sort((a, b) => (ORDER.get(a.emoji) ?? ORDER.size) - (ORDER.get(b.emoji) ?? ORDER.size))
  }
  if (!entry) return out
  if (add && !entry.userIds.includes(userId)) entry.userIds = [...entry.userIds, userId].sort()
  if (!add) entry.userIds = entry.userIds.filter((u) => u !== userId)
  return out.filter((r) => r.userIds.length > 0)
}

/** How many names a "who reacted" sentence lists before "and N others". */
export const NAMES_SHOWN = 10

/** "Ana", "You and Ana", "You, Ana and Cleo", "…, Omar and 4 others". */
export function nameList(names: readonly string[], shown: number = NAMES_SHOWN): string {
  if (names.length <= 1) return names[0] ?? ''
  if (names.length <= shown) return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
  const rest = names.length - shown
  return `${names.slice(0, shown).join(', ')} and ${rest} other${rest > 1 ? 's' : ''}`
}

// Mentions: `@Display Name` in a message body. The server decides who a message mentions
// (it resolves the names to participant ids, `message.mentions`); the client only
// 1. offers the participants' names while `@…` is being typed (the composer), and
// 2. finds, in a stored body, the `@Name` text of the people the server said it mentions,
//    so that the bubble can highlight it — as text and spans, never as HTML.
//
// The matching rules follow the server's (shared/core/src/notify.rs `mentions_in`): `@`
// at the start or after a character that is not a letter or digit, then a participant's
// name in any case, not followed by a letter or digit; a first name alone counts when no
// other participant has it; the longest name wins (`@Ana Lima` over `@Ana`).

export interface MentionPerson {
  userId: string
  name: string
}

export type BodySegment =
  | { kind: 'text'; text: string }
  | { kind: 'mention'; text: string; userId: string; mine: boolean }

const WORD_CHAR = /[\p{L}\p{N}]/u

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && WORD_CHAR.test(c)
}

/**
 * Text for comparing names: lower case, without diacritics ("Zoë" and "zoe" match), so
 * that a prefix typed without accents finds the name.
 */
export function foldName(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase()
}

function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? ''
}

// --- the composer -------------------------------------------------------------------------

/** The `@…` being typed at the caret: where its `@` is, and what follows it so far. */
export interface MentionQuery {
  /** Index of the `@` in the text. */
  start: number
  /** The text between the `@` and the caret. */
  query: string
}

/** The longest query looked at: past this, the `@` is someone's email or a long sentence. */
const MAX_QUERY = 64

/**
 * The mention being typed where the caret is, or null: an `@` at the start of the text or
 * after a character that is not a letter or digit (`ana@example.com` is no mention), then
 * at least one letter, and only letters, marks, spaces, apostrophes, dots and hyphens up
 * to the caret (names have spaces: `@Ana Al`). Whether anyone matches is the caller's
 * question (`matchParticipants`): `@Ana thanks` stays open only while a name starts so.
 */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret)
  const at = before.lastIndexOf('@')
  if (at < 0 || caret - at - 1 > MAX_QUERY) return null
  if (at > 0 && isWordChar(before[at - 1])) return null
  const query = before.slice(at + 1)
  if (!/^\p{L}[\p{L}\p{M}' .\-]*$/u.test(query) || /\s\s/.test(query)) return null
  return { start: at, query }
}

/**
 * The participants whose display name starts with `query` (any case, with or without
 * diacritics), except `meId`, alphabetically.
 */
export function matchParticipants<T extends MentionPerson>(people: readonly T[], query: string, meId: string | null | undefined, limit = 8): T[] {
  const wanted = foldName(query.trimStart())
  if (!wanted) return []
  return people
    .filter((p) => p.userId !== meId && foldName(p.name.trim()).startsWith(wanted))
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, limit)
}

/**
 * Replaces the `@query` typed (from `start` to `caret`) with `@<full name> `, returning
 * the new text and where the caret goes (after the space).
 */
export function insertMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name.trim()} `
  // A space already after the caret is not doubled.
  const after = text.slice(caret).replace(/^ /, '')
  return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length }
}

// --- the bubble ---------------------------------------------------------------------------

/**
 * The names by which the mentioned people may appear in a body: each one's full name,
 * and the first name when only they have it among the participants; longest first.
 */
function namesOfMentioned(mentions: readonly string[], participants: readonly MentionPerson[]): { name: string; userId: string }[] {
  const firsts = new Map<string, number>()
  for (const p of participants) {
    const first = foldName(firstName(p.name))
    if (first) firsts.set(first, (firsts.get(first) ?? 0) + 1)
  }
  const names: { name: string; userId: string }[] = []
  for (const id of new Set(mentions)) {
    const person = participants.find((p) => p.userId === id)
    const full = person?.name.trim()
    if (!person || !full) continue
    names.push({ name: full, userId: id })
    const first = firstName(full)
    if (first.length < full.length && firsts.get(foldName(first)) === 1) names.push({ name: first, userId: id })
  }
  return names.sort((a, b) => b.name.length - a.name.length)
}

/** Whether `body` has `name` at `index`, in any case. */
function namedAt(body: string, index: number, name: string): boolean {
  const candidate = body.slice(index, index + name.length)
  return candidate.length === name.length && candidate.toLocaleLowerCase() === name.toLocaleLowerCase()
}

/**
 * `body` cut into plain text and the mentions of the people in `mentions` (ids the server
 * resolved) whose names are known from `participants`. Anything else, `@` included, stays
 * plain text; joining the segments' text gives back `body` exactly.
 */
export function mentionSegments(
  body: string,
  mentions: readonly string[] | null | undefined,
  participants: readonly MentionPerson[],
  meId: string | null | undefined,
): BodySegment[] {
  const names = mentions?.length && body.includes('@') ? namesOfMentioned(mentions, participants) : []
  if (!names.length) return body ? [{ kind: 'text', text: body }] : []
  const segments: BodySegment[] = []
  let plainFrom = 0
  let i = 0
  while (i < body.length) {
    const at = body.indexOf('@', i)
    if (at < 0) break
    const hit = at > 0 && isWordChar(body[at - 1])
      ? undefined
      : names.find(({ name }) => namedAt(body, at + 1, name) && !isWordChar(body[at + 1 + name.length]))
    if (!hit) {
      i = at + 1
      continue
    }
    const end = at + 1 + hit.name.length
    if (at > plainFrom) segments.push({ kind: 'text', text: body.slice(plainFrom, at) })
    segments.push({ kind: 'mention', text: body.slice(at, end), userId: hit.userId, mine: hit.userId === meId })
    plainFrom = end
    i = end
  }
  if (plainFrom < body.length) segments.push({ kind: 'text', text: body.slice(plainFrom) })
  return segments
}

/** Whether the message mentions `userId` (the server's list, read defensively). */
export function mentionsUser(mentions: readonly string[] | null | undefined, userId: string | null | undefined): boolean {
  return !!userId && !!mentions?.includes(userId)
}

// Dates and texts as the UI shows them.

// Built once: formatting with an options object builds a new Intl.DateTimeFormat per call,
// and these run for every message bubble and list row on every render.
const DAY_OF_THIS_YEAR = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' })
const DAY_OF_OTHER_YEAR = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const SHORT_DATE = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' })

export function toDate(ts: string): Date {
  return new Date(ts)
}

export function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/** "Today", "Yesterday", or "Monday, 23 November 2026". */
export function dayLabel(ts: string, now: Date = new Date()): string {
  const d = toDate(ts)
  if (sameDay(d, now)) return 'Today'
  const yesterday = new Date(now)
  yesterday.setDate(now.getDate() - 1)
  if (sameDay(d, yesterday)) return 'Yesterday'
  return (d.getFullYear() === now.getFullYear() ? DAY_OF_THIS_YEAR : DAY_OF_OTHER_YEAR).format(d)
}

export function timeLabel(ts: string): string {
  return TIME.format(toDate(ts))
}

export function fullDateTime(ts: string): string {
  return DATE_TIME.format(toDate(ts))
}

/** Short label for conversation lists: a time today, otherwise a date. */
export function shortWhen(ts: string, now: Date = new Date()): string {
  const d = toDate(ts)
  if (sameDay(d, now)) return timeLabel(ts)
  return SHORT_DATE.format(d)
}

/** The longest message body, in [`charCount`] units (the server's limit). */
export const MAX_BODY = 5000

/** Unicode scalar values after trimming, as the server counts a body's length. */
export function charCount(text: string): number {
  let n = 0
  for (const _ of text.trim()) n++
  return n
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  const first = parts[0]?.[0] ?? '?'
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : ''
  return (first + last).toUpperCase()
}

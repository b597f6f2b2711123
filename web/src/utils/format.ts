// Dates and texts as the UI shows them.

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
  return d.toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric',
  })
}

export function timeLabel(ts: string): string {
  return toDate(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
}

export function fullDateTime(ts: string): string {
  return toDate(ts).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** Short label for conversation lists: a time today, otherwise a date. */
export function shortWhen(ts: string, now: Date = new Date()): string {
  const d = toDate(ts)
  if (sameDay(d, now)) return timeLabel(ts)
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })
}

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

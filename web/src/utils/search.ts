// A message search as its form holds it (words, where, who, which days, attachments,
// order) and as `GET /api/messaging/search` takes it. Days come from date inputs in the
// reader's own time zone; the server wants instants, with `to` exclusive, so a "to" day
// is sent as the midnight that ends it.

import type { MessageSearchQuery, SearchOrder } from '../types'

/** The server's limit on `q`, in characters. */
export const MAX_QUERY_CHARS = 200
/** Results per page (the server's default; at most 50). */
export const SEARCH_PAGE_SIZE = 20

export type FilesFilter = 'any' | 'with' | 'without'

export interface SearchFilters {
  q: string
  /** One conversation, or '' for every one the caller may read. */
  conversationId: string
  /** Only what this person sent, or '' for anyone. */
  senderId: string
  /** `YYYY-MM-DD` (a date input's value), or '' for no bound. */
  from: string
  /** The last day included, `YYYY-MM-DD`, or ''. */
  to: string
  files: FilesFilter
  order: SearchOrder
}

export function emptyFilters(): SearchFilters {
  return { q: '', conversationId: '', senderId: '', from: '', to: '', files: 'any', order: 'newest' }
}

/**
 * Whether the server can search for `q`: it needs a letter or a digit (punctuation only
 * separates words), so anything else is not worth a request — nor the rate limit it spends.
 */
export function searchable(q: string): boolean {
  return /[\p{L}\p{N}]/u.test(q)
}

/**
 * The local midnight that starts `day` (`YYYY-MM-DD`), `plusDays` later, as RFC 3339;
 * null for anything else. Built from the parts: `Date.parse('2026-11-23')` would be UTC.
 */
export function startOfDay(day: string, plusDays = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (!m) return null
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}

/** What the server would refuse in these filters, said before asking it; null when nothing. */
export function filtersProblem(filters: SearchFilters): string | null {
  if ([...filters.q].length > MAX_QUERY_CHARS) return `Search for at most ${MAX_QUERY_CHARS} characters.`
  if (filters.from && filters.to && filters.to < filters.from) return 'The last day is before the first day.'
  return null
}

/**
 * The API query for `filters` (its first page, or the one at `cursor`), with the filters
 * left at "any" left out; null while there is nothing to search for.
 */
export function searchQuery(filters: SearchFilters, cursor: string | null = null, limit = SEARCH_PAGE_SIZE): MessageSearchQuery | null {
  const q = filters.q.trim()
  if (!searchable(q)) return null
  const query: MessageSearchQuery = { q }
  if (filters.conversationId) query.conversationId = filters.conversationId
  if (filters.senderId) query.senderId = filters.senderId
  const from = filters.from ? startOfDay(filters.from) : null
  if (from) query.from = from
  const to = filters.to ? startOfDay(filters.to, 1) : null
  if (to) query.to = to
  if (filters.files !== 'any') query.hasFiles = filters.files === 'with'
  if (filters.order !== 'newest') query.order = filters.order
  if (cursor) query.cursor = cursor
  query.limit = limit
  return query
}

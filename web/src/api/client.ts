// The REST client: every route of shared/http-api/src/routes.rs the web client uses, with
// `Authorization: Bearer <token>` on each call and the backend's error body turned into
// an ApiError. `fetch` is injectable so tests can answer without a server.

import type {
  AddParticipantsRequest,
  ApiErrorBody,
  AttachmentRequest,
  CreateConversationRequest,
  ConversationDetail,
  ConversationStatus,
  ConversationSummary,
  ConversationView,
  ListPage,
  MessageAudit,
  MessagePage,
  MessageSearchQuery,
  MessageView,
  ParticipantView,
  PinnedMessages,
  PreferencesRequest,
  PreferencesView,
  ProfileView,
  ReadReceiptView,
  RenameConversationRequest,
  RenameMeRequest,
  ReportStatus,
  SearchResultPage,
  ReportView,
  ResolveReportRequest,
  SendMessageRequest,
  SetUserStateRequest,
  SignedRequest,
  ThreadPage,
  UploadGrant,
  UserStatus,
  WsTicket,
} from '../types'

export class ApiError extends Error {
  /** HTTP status; 0 when the request never got an answer (network down, aborted). */
  readonly status: number
  readonly code: string
  readonly field: string | null
  /**
   * How long the server asked us to wait before trying again (its `Retry-After`, in
   * seconds or as an HTTP date), in milliseconds; null when it did not say.
   */
  readonly retryAfterMs: number | null

  constructor(status: number, code: string, message: string, field: string | null = null, retryAfterMs: number | null = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.retryAfterMs = retryAfterMs
  }

  /** Worth retrying as is: no answer, or the backend said "try again". */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }

  /** Over the caller's allowance (`429 rate_limited`): nothing was written; wait and retry. */
  get rateLimited(): boolean {
    return this.status === 429
  }
}

/**
 * A `Retry-After` value in milliseconds: delay-seconds ("120") or an HTTP date ("Wed, 21
 * Oct 2026 07:28:00 GMT", counted from `now`, never negative). Null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  const text = value?.trim()
  if (!text) return null
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // Only a date that names a day (not a bare number such as "-1" or "1.5").
  if (!/[a-z]/i.test(text)) return null
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

/** "3 s", rounded up, at least 1 s. */
function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))} s`
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return 'No connection to the server. Check your network and try again.'
    if (e.rateLimited) return rateLimitedMessage(e)
    return e.message
  }
  if (e instanceof Error) return e.message
  return String(e)
}

/**
 * The server's own words for a 429, with when to try again: "too many reports requests;
 * retry in 40 s" already says it; otherwise "…; try again in 40 s" (or "shortly").
 */
function rateLimitedMessage(e: ApiError): string {
  const text = e.message || 'Too many requests'
  if (/\b(retry|try again) in \d+/i.test(text)) return text
  return `${text}; try again ${e.retryAfterMs !== null ? `in ${seconds(e.retryAfterMs)}` : 'shortly'}`
}

type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  query?: Query
  body?: unknown
  signal?: AbortSignal
  /** No bearer token, and a 401 does not end the session. */
  anonymous?: boolean
}

/** A searchable list's query: a text, the cursor of the page after, a page size. */
type SearchQuery = { q?: string; cursor?: string | null; limit?: number }

export interface ApiClientOptions {
  /** Origin (and optional prefix, e.g. an API Gateway stage) of the API; '' for the page's own origin. */
  baseUrl?: string
  getToken: () => string | null
  fetch?: typeof fetch
  /** Called on any 401, e.g. to send the user back to the login. */
  onUnauthorized?: () => void
}

function withQuery(path: string, query?: Query): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.set(k, String(v))
  }
  const s = params.toString()
  return s ? `${path}?${s}` : path
}

const enc = encodeURIComponent

export class ApiClient {
  private readonly baseUrl: string
  private readonly getToken: () => string | null
  private readonly fetchImpl: typeof fetch
  private readonly onUnauthorized?: () => void

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl ?? ''
    this.getToken = options.getToken
    // Bound, so that a later stub of globalThis.fetch is seen and `this` is right.
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.onUnauthorized = options.onUnauthorized
  }

  /**
   * Sends a request; resolves with the parsed JSON body (undefined for 204) and the status.
   * `anonymous`: without the bearer token, and a 401 is only an error (no session to end) —
   * for the few routes a link opens without signing in (unsubscribe).
   */
  async requestWithStatus<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; data: T }> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    // Read on every call: silent renewal replaces the access token in place.
    const token = options.anonymous ? null : this.getToken()
    if (token) headers.Authorization = `Bearer ${token}`
    let body: string | undefined
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(options.body)
    }
    let response: Response
    try {
      response = await this.fetchImpl(this.baseUrl + withQuery(path, options.query), {
        method,
        headers,
        body,
        signal: options.signal,
      })
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e
      throw new ApiError(0, 'network', e instanceof Error ? e.message : 'network error')
    }
    const text = await response.text().catch(() => '')
    let parsed: unknown = undefined
    if (text) {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
    }
    if (!response.ok) {
      if (response.status === 401 && !options.anonymous) this.onUnauthorized?.()
      const err = (parsed as ApiErrorBody | undefined)?.error
      throw new ApiError(
        response.status,
        err?.code ?? `http_${response.status}`,
        err?.message ?? (response.statusText || `request failed with status ${response.status}`),
        err?.field ?? null,
        parseRetryAfter(response.headers?.get('Retry-After')),
      )
    }
    return { status: response.status, data: parsed as T }
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.requestWithStatus<T>(method, path, options)).data
  }

  // --- members --------------------------------------------------------------------------

  me(): Promise<ProfileView> {
    return this.request('GET', '/api/messaging/me')
  }

  renameMe(req: RenameMeRequest): Promise<ProfileView> {
    return this.request('PATCH', '/api/messaging/me', { body: req })
  }

  /** People the caller may start a conversation with (active, the caller left out). */
  searchPeople(query: SearchQuery = {}, signal?: AbortSignal): Promise<ListPage<ProfileView>> {
    return this.request('GET', '/api/messaging/people', { query, signal })
  }

  listConversations(query: SearchQuery = {}, signal?: AbortSignal): Promise<ListPage<ConversationSummary>> {
    return this.request('GET', '/api/messaging/conversations', { query, signal })
  }

  getConversation(id: string): Promise<ConversationDetail> {
    return this.request('GET', `/api/messaging/conversations/${enc(id)}`)
  }

  createConversation(req: CreateConversationRequest): Promise<ConversationDetail> {
    return this.request('POST', '/api/messaging/conversations', { body: req })
  }

  renameConversation(id: string, req: RenameConversationRequest): Promise<ConversationView> {
    return this.request('PATCH', `/api/messaging/conversations/${enc(id)}`, { body: req })
  }

  /** Team and admins only (403 for clients). */
  addParticipants(id: string, req: AddParticipantsRequest): Promise<ConversationDetail> {
    return this.request('POST', `/api/messaging/conversations/${enc(id)}/participants`, { body: req })
  }

  /** Anyone may remove themselves (leave); removing others is for the team and admins. */
  async removeParticipant(id: string, userId: string): Promise<void> {
    await this.request('DELETE', `/api/messaging/conversations/${enc(id)}/participants/${enc(userId)}`)
  }

  /** The caller's own settings (mute, hide, notifications, emails), kept on the server for every device. */
  setPreferences(id: string, req: PreferencesRequest): Promise<PreferencesView> {
    return this.request('PATCH', `/api/messaging/conversations/${enc(id)}/preferences`, { body: req })
  }

  listMessages(
    id: string,
    query: { before?: number; after?: number; limit?: number } = {},
  ): Promise<MessagePage> {
    return this.request('GET', `/api/messaging/conversations/${enc(id)}/messages`, { query })
  }

  /** 201 for a new message, 200 for a retry that found the original (`created: false`). */
  async sendMessage(
    id: string,
    req: SendMessageRequest,
  ): Promise<{ message: MessageView; created: boolean }> {
    const { status, data } = await this.requestWithStatus<MessageView>(
      'POST',
      `/api/messaging/conversations/${enc(id)}/messages`,
      { body: req },
    )
    return { message: data, created: status === 201 }
  }

  editMessage(id: string, messageId: string, body: string): Promise<MessageView> {
    return this.request('PATCH', `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}`, {
      body: { body },
    })
  }

  deleteMessage(id: string, messageId: string): Promise<MessageView> {
    return this.request('DELETE', `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}`)
  }

  /** Adds my `emoji` to a message (having it already changes nothing); the message with its reactions now. */
  addReaction(id: string, messageId: string, emoji: string): Promise<MessageView> {
    return this.request('PUT', `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}/reactions`, {
      body: { emoji },
    })
  }

  /** Takes my `emoji` away (not having it changes nothing); the message with its reactions now. */
  removeReaction(id: string, messageId: string, emoji: string): Promise<MessageView> {
    return this.request('DELETE', `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}/reactions`, {
      query: { emoji },
    })
  }

  /**
   * The thread `messageId` belongs to (its own, or for a reply its root's): the root as it
   * is now and its replies after `after`, ascending; `hasMore` says whether to ask again.
   */
  getThread(id: string, messageId: string, query: { after?: number; limit?: number } = {}): Promise<ThreadPage> {
    return this.request('GET', `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}/thread`, { query })
  }

  /** The conversation's pinned messages, oldest first (any member). */
  listPins(id: string): Promise<PinnedMessages> {
    return this.request('GET', `/api/messaging/conversations/${enc(id)}/pins`)
  }

  /** Team and admins only (403 for clients); the pinned messages after the change. */
  pinMessage(id: string, messageId: string): Promise<PinnedMessages> {
    return this.request('PUT', `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}/pin`)
  }

  /** Team and admins only (403 for clients); the pinned messages after the change. */
  unpinMessage(id: string, messageId: string): Promise<PinnedMessages> {
    return this.request('DELETE', `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}/pin`)
  }

  reportMessage(id: string, messageId: string, reason: string): Promise<ReportView> {
    return this.request(
      'POST',
      `/api/messaging/conversations/${enc(id)}/messages/${enc(messageId)}/report`,
      { body: { reason } },
    )
  }

  markRead(id: string, seq: number): Promise<ReadReceiptView> {
    return this.request('POST', `/api/messaging/conversations/${enc(id)}/read`, { body: { seq } })
  }

  requestUploads(id: string, files: AttachmentRequest[]): Promise<UploadGrant> {
    return this.request('POST', `/api/messaging/conversations/${enc(id)}/attachments`, {
      body: { files },
    })
  }

  /** A fresh, short-lived signed download URL. Use it at once; never keep it. */
  downloadLink(id: string, fileId: string): Promise<SignedRequest> {
    return this.request('GET', `/api/messaging/conversations/${enc(id)}/files/${enc(fileId)}`)
  }

  /**
   * Messages of the conversations I am in now (or of `conversationId`) that hold every
   * word of `q`, with a snippet each. Spends the caller's search allowance (429 past it):
   * callers debounce typing and abort the request a newer one replaces.
   */
  searchMessages(query: MessageSearchQuery, signal?: AbortSignal): Promise<SearchResultPage> {
    return this.request('GET', '/api/messaging/search', { query, signal })
  }

  wsTicket(): Promise<WsTicket> {
    return this.request('POST', '/api/messaging/ws-ticket')
  }

  // --- admins ---------------------------------------------------------------------------

  adminListConversations(query: {
    status?: ConversationStatus | ''
    q?: string
    participant?: string
    cursor?: string | null
    limit?: number
  }): Promise<ListPage<ConversationView>> {
    return this.request('GET', '/api/admin/messaging/conversations', { query })
  }

  adminListMessages(
    id: string,
    query: { before?: number; after?: number; limit?: number } = {},
  ): Promise<MessagePage> {
    return this.request('GET', `/api/admin/messaging/conversations/${enc(id)}/messages`, { query })
  }

  adminSetStatus(id: string, status: ConversationStatus): Promise<ConversationView> {
    return this.request('PATCH', `/api/admin/messaging/conversations/${enc(id)}/status`, {
      body: { status },
    })
  }

  adminParticipants(id: string): Promise<ParticipantView[]> {
    return this.request('GET', `/api/admin/messaging/conversations/${enc(id)}/participants`)
  }

  adminListReports(query: {
    status?: ReportStatus | ''
    cursor?: string | null
    limit?: number
  }): Promise<ListPage<ReportView>> {
    return this.request('GET', '/api/admin/messaging/reports', { query })
  }

  adminResolveReport(id: string, req: ResolveReportRequest): Promise<ReportView> {
    return this.request('PATCH', `/api/admin/messaging/reports/${enc(id)}`, { body: req })
  }

  /** Everyone in the directory, disabled people too, by name; `q` searches name and email. */
  adminListUsers(query: SearchQuery & { status?: UserStatus | '' } = {}): Promise<ListPage<ProfileView>> {
    return this.request('GET', '/api/admin/messaging/users', { query })
  }

  /** Disables (every token of theirs gets 401, their sockets close) or enables someone. */
  adminSetUserState(userId: string, req: SetUserStateRequest): Promise<ProfileView> {
    return this.request('PATCH', `/api/admin/messaging/users/${enc(userId)}`, { body: req })
  }

  /** As `searchMessages`, over every conversation. */
  adminSearchMessages(query: MessageSearchQuery, signal?: AbortSignal): Promise<SearchResultPage> {
    return this.request('GET', '/api/admin/messaging/search', { query, signal })
  }

  adminMessageAudit(conversationId: string, messageId: string): Promise<MessageAudit> {
    return this.request(
      'GET',
      `/api/admin/messaging/conversations/${enc(conversationId)}/messages/${enc(messageId)}/audit`,
    )
  }
}

// Test doubles shared by the unit tests: message factories, a fake WebSocket, and a
// fake messaging server behind a fake fetch.

import type {
  ConversationDetail,
  ConversationNotifyFields,
  ConversationSummary,
  MentioningMessage,
  MessageView,
  ParticipantView,
  Person,
  ProfileView,
} from '../../src/types'
import type { WebSocketLike } from '../../src/composables/useSocket'
import { withReaction } from '../../src/utils/reactions'

export const CID = '01HZCONVERSATION0000000001'
export const ME = 'u-team-ben'
export const ANA = 'u-client-ana'
/** The signed-in user of the tests. */
export const BEN: Person = { userId: ME, name: 'Ben Carter', role: 'team', organisation: null }

export function profile(userId: string, overrides: Partial<ProfileView> = {}): ProfileView {
  const client = userId.includes('client')
  const name = userId === ME ? 'Ben Carter' : userId === ANA ? 'Ana Alvarez' : userId
  return {
    userId,
    name,
    role: client ? 'client' : 'team',
    organisation: client ? 'Acme Corp' : null,
    initials: name.slice(0, 2).toUpperCase(),
    colour: null,
    email: null,
    active: true,
    ...overrides,
  }
}

let ids = 0
// The notification fields (`mentions`, `notify`, `email`) are set here already, so that
// these factories keep type-checking once api/wire.ts makes them required.
export function message(seq: number, overrides: Partial<MentioningMessage> = {}): MentioningMessage {
  ids++
  return {
    id: `m${seq}`,
    conversationId: CID,
    seq,
    senderId: ANA,
    senderName: 'Ana Alvarez',
    body: `message ${seq}`,
    clientMessageId: `c-${seq}-${ids}`,
    createdAt: new Date(Date.UTC(2026, 10, 23, 10, 0, seq)).toISOString(),
    editedAt: null,
    deleted: false,
    deletedAt: null,
    files: [],
    mentions: [],
    reactions: [],
    replyToSeq: null,
    quote: null,
    threadRoot: null,
    replyCount: 0,
    ...overrides,
  }
}

export function summary(overrides: Partial<ConversationSummary & ConversationNotifyFields> = {}): ConversationSummary & ConversationNotifyFields {
  return {
    id: CID,
    title: 'Kickoff',
    projectId: null,
    status: 'open',
    createdBy: ME,
    createdAt: '2026-11-23T09:00:00.000Z',
    updatedAt: '2026-11-23T09:00:00.000Z',
    lastSeq: 0,
    lastActivityAt: '2026-11-23T09:00:00.000Z',
    lastMessage: null,
    lastReadSeq: 0,
    unreadCount: 0,
    muted: false,
    hidden: false,
    notify: null,
    email: true,
    ...overrides,
  }
}

export function participant(userId: string, overrides: Partial<ParticipantView> = {}): ParticipantView {
  return {
    userId,
    name: userId === ME ? 'Ben Carter' : userId === ANA ? 'Ana Alvarez' : userId,
    role: userId.includes('client') ? 'client' : 'team',
    organisation: userId.includes('client') ? 'Acme Corp' : null,
    joinedAt: '2026-11-23T09:00:00.000Z',
    online: false,
    lastReadSeq: 0,
    ...overrides,
  }
}

export function detail(overrides: Partial<ConversationDetail> = {}): ConversationDetail {
  const { unreadCount: _u, lastReadSeq: _l, ...base } = summary()
  return {
    ...base,
    participants: [participant(ME), participant(ANA)],
    lastReadSeq: 0,
    unreadCount: 0,
    ...overrides,
  }
}

/** A WebSocket the test drives: open it, push frames, drop it. */
export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = []
  readyState = 0
  sent: string[] = []
  closed: { code?: number; reason?: string } | null = null
  onopen: ((ev: Event) => void) | null = null
  onclose: ((ev: CloseEvent) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  onerror: ((ev: Event) => void) | null = null

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this)
  }

  static reset() {
    FakeWebSocket.instances = []
  }

  static last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1]
    if (!ws) throw new Error('no socket was created')
    return ws
  }

  get ticket(): string | null {
    return new URL(this.url).searchParams.get('ticket')
  }

  send(data: string) {
    if (this.readyState !== 1) throw new Error('not open')
    this.sent.push(data)
  }

  close(code?: number, reason?: string) {
    this.closed = { code, reason }
    this.readyState = 3
  }

  // --- driven by the test ---
  open() {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }

  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent)
  }

  /** The server (or the network) closes the connection. */
  drop(code = 1006) {
    this.readyState = 3
    this.onclose?.({ code, reason: '', wasClean: false } as CloseEvent)
  }

  actions(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>)
  }
}

export interface Call {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> }
type Handler = (call: Call) => Answer | Promise<Answer>

/** Refusals of the server, by status (a 429 is `rate_limited`, as the gateway says it). */
type Failure = {
  match: (c: Call) => boolean
  status: number | 'network'
  times: number
  headers?: Record<string, string>
  error?: { code: string; message: string }
}

/**
 * A fake of the messaging REST API with real history semantics (before / after /
 * latest, hasMore, idempotent sends by clientMessageId), so that catch-up and paging
 * logic runs against something that behaves like the server.
 */
export class FakeServer {
  calls: Call[] = []
  messages: MessageView[] = []
  tickets = 0
  detail: ConversationDetail = detail()
  /** The directory `GET /people` searches (the caller, ME, is left out as the server does). */
  people: ProfileView[] = [profile(ANA), profile('u-client-amy', { name: 'Amy Alder' }), profile('u-team-cleo', { name: 'Cleo Park' }), profile(ME)]
  /** The seqs pinned (`PUT/DELETE .../pin`, `GET .../pins`). */
  pinned: number[] = []
  /** Makes the next matching requests fail. */
  failures: Failure[] = []
  overrides: { match: (c: Call) => boolean; handler: Handler }[] = []

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://test.local')
    const call: Call = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    }
    this.calls.push(call)
    const failure = this.failures.find((f) => f.times > 0 && f.match(call))
    if (failure) {
      failure.times--
      if (failure.status === 'network') throw new TypeError('Failed to fetch')
      const error = failure.error ?? (failure.status === 429 ? { code: 'rate_limited', message: 'too many send requests; retry in 3 s' } : { code: 'unavailable', message: 'try again' })
      return json(failure.status, { error: { ...error, field: null } }, failure.headers)
    }
    const override = this.overrides.find((o) => o.match(call))
    const { status, body, headers } = override ? await override.handler(call) : this.handle(call)
    return json(status, body, headers)
  }

  callsTo(method: string, pathPart: string): Call[] {
    return this.calls.filter((c) => c.method === method && c.path.includes(pathPart))
  }

  add(count: number, from = this.messages.length + 1, senderId = ANA) {
    for (let i = 0; i < count; i++) this.messages.push(message(from + i, { senderId, senderName: senderId === ANA ? 'Ana Alvarez' : 'Ben Carter' }))
  }

  private handle(call: Call): Answer {
    const p = call.path
    if (call.method === 'POST' && p === '/api/messaging/ws-ticket') {
      this.tickets++
      return { status: 201, body: { ticket: `ticket-${this.tickets}`, expiresInSeconds: 30 } }
    }
    if (call.method === 'GET' && p === '/api/messaging/me') {
      return { status: 200, body: profile(ME) }
    }
    if (call.method === 'GET' && p === '/api/messaging/people') {
      const q = (call.query.get('q') ?? '').toLowerCase()
      const items = this.people.filter((x) => x.userId !== ME && x.name.toLowerCase().includes(q))
      return { status: 200, body: { items, nextCursor: null } }
    }
    if (call.method === 'GET' && p === '/api/admin/messaging/users') return this.adminUsers(call.query)
    const user = /^\/api\/admin\/messaging\/users\/([^/]+)$/.exec(p)
    if (call.method === 'PATCH' && user) {
      const person = this.people.find((x) => x.userId === decodeURIComponent(user[1]!))
      if (!person) return { status: 404, body: { error: { code: 'not_found', message: 'no such user', field: null } } }
      person.active = (call.body as { active: boolean }).active
      return { status: 200, body: { ...person } }
    }
    if (call.method === 'GET' && p === '/api/messaging/conversations') {
      const last = this.messages[this.messages.length - 1]
      return {
        status: 200,
        body: { items: [summary({ lastSeq: last?.seq ?? 0 })], nextCursor: null },
      }
    }
    if (call.method === 'GET' && p === `/api/messaging/conversations/${CID}`) {
      return { status: 200, body: { ...this.detail, lastSeq: this.messages.length } }
    }
    if (call.method === 'GET' && p === `/api/messaging/conversations/${CID}/messages`) {
      const limit = Number(call.query.get('limit') ?? 50)
      const before = call.query.get('before')
      const after = call.query.get('after')
      if (after !== null) {
        const rest = this.messages.filter((m) => m.seq > Number(after))
        return { status: 200, body: { items: rest.slice(0, limit), hasMore: rest.length > limit } }
      }
      const older = before !== null ? this.messages.filter((m) => m.seq < Number(before)) : this.messages
      const items = older.slice(Math.max(0, older.length - limit))
      return { status: 200, body: { items, hasMore: (items[0]?.seq ?? 1) > 1 } }
    }
    if (call.method === 'POST' && p === `/api/messaging/conversations/${CID}/messages`) {
      const req = call.body as { body: string; clientMessageId: string; fileIds?: string[]; replyToId?: string }
      const existing = this.messages.find((m) => m.clientMessageId === req.clientMessageId)
      if (existing) return { status: 200, body: existing }
      const seq = this.messages.length + 1
      const stored = message(seq, { senderId: ME, senderName: 'Ben Carter', body: req.body, clientMessageId: req.clientMessageId, id: `m${seq}` })
      if (req.replyToId !== undefined) {
        const original = this.messages.find((m) => m.id === req.replyToId)
        if (!original) return { status: 400, body: { error: { code: 'validation_failed', message: 'not in this conversation', field: 'replyToId' } } }
        if (original.deleted) return { status: 409, body: { error: { code: 'message_deleted', message: 'the message was deleted', field: null } } }
        this.reply(stored, original)
      }
      this.messages.push(stored)
      return { status: 201, body: stored }
    }
    const thread = new RegExp(`^/api/messaging/conversations/${CID}/messages/([^/]+)/thread$`).exec(p)
    if (call.method === 'GET' && thread) {
      const from = this.messages.find((m) => m.id === decodeURIComponent(thread[1]!))
      if (!from) return { status: 404, body: { error: { code: 'not_found', message: 'no such message', field: null } } }
      const root = from.threadRoot === null ? from : this.messages.find((m) => m.seq === from.threadRoot)!
      const after = Number(call.query.get('after') ?? 0)
      const limit = Number(call.query.get('limit') ?? 50)
      const replies = this.messages.filter((m) => m.threadRoot === root.seq && m.seq > after)
      return { status: 200, body: structuredClone({ root, items: replies.slice(0, limit), hasMore: replies.length > limit }) }
    }
    if (call.method === 'GET' && p === `/api/messaging/conversations/${CID}/pins`) return this.pins()
    const pin = new RegExp(`^/api/messaging/conversations/${CID}/messages/([^/]+)/pin$`).exec(p)
    if (pin && (call.method === 'PUT' || call.method === 'DELETE')) {
      const stored = this.messages.find((m) => m.id === decodeURIComponent(pin[1]!))
      if (!stored) return { status: 404, body: { error: { code: 'not_found', message: 'no such message', field: null } } }
      this.pinned = this.pinned.filter((s) => s !== stored.seq)
      if (call.method === 'PUT') this.pinned = [...this.pinned, stored.seq].sort((a, b) => a - b)
      return this.pins()
    }
    const reacted = new RegExp(`^/api/messaging/conversations/${CID}/messages/([^/]+)/reactions$`).exec(p)
    if (reacted && (call.method === 'PUT' || call.method === 'DELETE')) {
      const stored = this.messages.find((m) => m.id === decodeURIComponent(reacted[1]!))
      if (!stored) return { status: 404, body: { error: { code: 'not_found', message: 'no such message', field: null } } }
      if (stored.deleted) return { status: 409, body: { error: { code: 'message_deleted', message: 'the message was deleted', field: null } } }
      const emoji = call.method === 'PUT' ? (call.body as { emoji: string }).emoji : call.query.get('emoji')!
      stored.reactions = withReaction(stored.reactions, emoji, ME, call.method === 'PUT')
      return { status: 200, body: structuredClone(stored) }
    }
    if (call.method === 'POST' && p === `/api/messaging/conversations/${CID}/read`) {
      const seq = (call.body as { seq: number }).seq
      return { status: 200, body: { conversationId: CID, userId: ME, lastReadSeq: seq, readAt: new Date().toISOString() } }
    }
    return { status: 404, body: { error: { code: 'not_found', message: `no route ${call.method} ${p}`, field: null } } }
  }

  /** Makes `reply` a reply to `original` (quote, thread root) and counts it on the root, as the server does. */
  reply(reply: MessageView, original: MessageView) {
    const rootSeq = original.threadRoot ?? original.seq
    reply.replyToSeq = original.seq
    reply.threadRoot = rootSeq
    reply.quote = {
      messageId: original.id,
      seq: original.seq,
      senderId: original.senderId,
      senderName: original.senderName,
      excerpt: original.deleted ? '' : (original.body ?? ''),
      deleted: original.deleted,
      fileCount: original.files.length,
    }
    const root = this.messages.find((m) => m.seq === rootSeq)
    if (root) root.replyCount++
  }

  private pins(): Answer {
    return { status: 200, body: { items: structuredClone(this.messages.filter((m) => this.pinned.includes(m.seq) && !m.deleted)) } }
  }

  /** `GET /api/admin/messaging/users`: everyone by name, `q` in the name or email, `status`, an offset for a cursor. */
  private adminUsers(query: URLSearchParams): { status: number; body: unknown } {
    const q = (query.get('q') ?? '').toLowerCase()
    const status = query.get('status')
    const limit = Number(query.get('limit') ?? 20)
    const from = Number(query.get('cursor') ?? 0)
    const matching = this.people
      .filter((x) => `${x.name} ${x.email ?? ''}`.toLowerCase().includes(q))
      .filter((x) => !status || (status === 'active') === x.active)
      .sort((a, b) => a.name.localeCompare(b.name))
    const items = matching.slice(from, from + limit).map((x) => ({ ...x }))
    return { status: 200, body: { items, nextCursor: from + limit < matching.length ? String(from + limit) : null } }
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

/** Lets pending promises (and the microtasks they schedule) run. */
export async function flush(times = 10) {
  for (let i = 0; i < times; i++) await Promise.resolve()
  await new Promise((r) => setTimeout(r, 0))
}

// The real-time connection.
//
// - Connects with a single-use ticket (`POST /api/messaging/ws-ticket`, then
//   `/ws?ticket=...`): browsers cannot set headers on a WebSocket, and a long-lived
//   token in a URL would end up in logs. Every (re)connect asks for a fresh ticket.
// - Heartbeat: `{"action":"ping"}` on open and every 25 s; no frame within the pong timeout means the
//   connection is dead (half-open TCP), so it is dropped and re-established.
// - Reconnects on its own with exponential backoff and jitter, capped at 30 s; the
//   browser's `online` event retries at once, `offline` drops the socket. A ticket
//   refused with 401 ends the retries (the session is over).
// - Tells its state (connecting / online / reconnecting / offline) and, on every open,
//   whether it was a reconnect, so the caller can catch up on what it missed.
//
// `SocketClient` is plain TypeScript (tested with a fake WebSocket and fake timers);
// `useSocket` ties it to the window's online/offline and visibility events.

import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, CONNECT_TIMEOUT_MS, HEARTBEAT_MS, PONG_TIMEOUT_MS, STALE_AFTER_MS } from '../timing'
import { ApiError } from '../api/client'
import type { ClientAction, ConnectionState, ServerEvent } from '../types'

export const WS_OPEN = 1

/** What the client needs of a WebSocket (the browser's, or a test double). */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((ev: Event) => void) | null
  onclose: ((ev: CloseEvent) => void) | null
  onmessage: ((ev: MessageEvent) => void) | null
  onerror: ((ev: Event) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type WebSocketFactory = (url: string) => WebSocketLike

export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: BACKOFF_BASE_MS, maxMs: BACKOFF_MAX_MS }

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry): exponential, capped,
 * with "equal jitter" — uniformly in [d/2, d] where d = min(max, base * 2^attempt) — so
 * that clients dropped together do not come back together, yet never retry at once.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt))
  const r = Math.min(1, Math.max(0, random()))
  return Math.round(exp / 2 + (r * exp) / 2)
}

export interface SocketClientOptions {
  /** A fresh single-use ticket. Called before every connection attempt. */
  getTicket: () => Promise<string>
  /** The WebSocket URL for a ticket. */
  buildUrl: (ticket: string) => string
  createSocket?: WebSocketFactory
  heartbeatMs?: number
  /** How long to wait for any frame after a ping before declaring the connection dead. */
  pongTimeoutMs?: number
  /** How long a connection attempt may take before it is abandoned. */
  connectTimeoutMs?: number
  backoff?: BackoffOptions
  random?: () => number
  /** The browser's idea of connectivity (navigator.onLine). */
  isOnline?: () => boolean
  onEvent?: (event: ServerEvent) => void
  /** After every successful open; `reconnect` is false for the very first one. */
  onOpen?: (info: { reconnect: boolean }) => void
  /**
   * The connection stayed open but went unheard for longer than the presence TTL allows
   * (a sleeping laptop, a throttled background tab): the server may have expired it and
   * dropped events meanwhile. Called once the next pong proves it live again.
   */
  onResume?: () => void
  /** A gap between heartbeats longer than this may have expired the connection. */
  staleAfterMs?: number
  onStateChange?: (state: ConnectionState) => void
}

export class SocketClient {
  state: ConnectionState = 'idle'
  /** Consecutive failed attempts since the last successful open. */
  attempt = 0

  private readonly opts: Required<
    Pick<SocketClientOptions, 'heartbeatMs' | 'pongTimeoutMs' | 'connectTimeoutMs' | 'backoff' | 'random' | 'isOnline' | 'staleAfterMs'>
  > &
    SocketClientOptions
  private socket: WebSocketLike | null = null
  private running = false
  private everOpened = false
  /** Bumped whenever a socket is abandoned, so its late callbacks are ignored. */
  private generation = 0
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null
  private pongTimer: ReturnType<typeof setTimeout> | null = null
  private connectTimer: ReturnType<typeof setTimeout> | null = null
  /** When the last heartbeat went out (or the socket opened). */
  private lastBeatAt: number | null = null
  /** A heartbeat gap was long enough to expire the connection: catch up after the pong. */
  private resumePending = false

  constructor(options: SocketClientOptions) {
    // Options given as `undefined` keep their defaults.
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SocketClientOptions
    this.opts = {
      heartbeatMs: HEARTBEAT_MS,
      pongTimeoutMs: PONG_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      staleAfterMs: STALE_AFTER_MS,
      backoff: DEFAULT_BACKOFF,
      random: Math.random,
      isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
      createSocket: (url: string) => new WebSocket(url) as unknown as WebSocketLike,
      ...given,
    }
  }

  /** Starts connecting (no-op when already running). */
  start(): void {
    if (this.running) return
    this.running = true
    void this.connect()
  }

  /** Closes the connection and stops reconnecting. */
  stop(): void {
    this.running = false
    this.abandonSocket(1000, 'client stopped')
    this.clearRetry()
    this.setState('idle')
  }

  /** Sends an action; false when not connected (the action is dropped, not queued). */
  send(action: ClientAction): boolean {
    if (!this.socket || this.socket.readyState !== WS_OPEN) return false
    try {
      this.socket.send(JSON.stringify(action))
      return true
    } catch {
      return false
    }
  }

  /** Retries at once with a fresh backoff (the browser came back online, or the user asked). */
  reconnectNow(): void {
    if (!this.running) return
    if (this.state === 'online' || this.state === 'connecting') return
    this.attempt = 0
    this.clearRetry()
    void this.connect()
  }

  /** The browser went offline: the socket is as good as dead. */
  handleOffline(): void {
    if (!this.running) return
    this.abandonSocket(4001, 'browser offline')
    this.scheduleReconnect()
  }

  // --- internals ------------------------------------------------------------------------

  private setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    this.opts.onStateChange?.(state)
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
  }

  private stopTimers(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer)
    if (this.pongTimer !== null) clearTimeout(this.pongTimer)
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.heartbeatTimer = null
    this.pongTimer = null
    this.connectTimer = null
  }

  /** Forgets the current socket: detaches its handlers and closes it. */
  private abandonSocket(code: number, reason: string): void {
    this.generation++
    this.stopTimers()
    const ws = this.socket
    this.socket = null
    if (ws) {
      ws.onopen = null
      ws.onmessage = null
      ws.onerror = null
      ws.onclose = null
      try {
        ws.close(code, reason)
      } catch {
        // already closed
      }
    }
  }

  private scheduleReconnect(): void {
    if (!this.running) return
    this.clearRetry()
    const delay = backoffDelay(this.attempt, this.opts.backoff, this.opts.random)
    this.attempt++
    this.setState(this.opts.isOnline() ? 'reconnecting' : 'offline')
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      void this.connect()
    }, delay)
  }

  private async connect(): Promise<void> {
    if (!this.running) return
    this.abandonSocket(1000, 'replaced')
    const generation = this.generation
    this.setState(this.everOpened || this.attempt > 0 ? 'reconnecting' : 'connecting')

    let ticket: string
    try {
      ticket = await this.opts.getTicket()
    } catch (e) {
      if (generation !== this.generation || !this.running) return
      // Refused (the session expired, or the account was disabled, which also closed the
      // socket): no ticket will ever come, so stop rather than retry. The REST client has
      // reported the 401 already; it is the one path back to the login.
      if (e instanceof ApiError && e.status === 401) {
        this.running = false
        this.setState('offline')
        return
      }
      this.scheduleReconnect()
      return
    }
    if (generation !== this.generation || !this.running) return

    let ws: WebSocketLike
    try {
      ws = this.opts.createSocket!(this.opts.buildUrl(ticket))
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = ws
    const current = () => generation === this.generation && this.socket === ws

    this.connectTimer = setTimeout(() => {
      if (!current()) return
      this.abandonSocket(4002, 'connect timeout')
      this.scheduleReconnect()
    }, this.opts.connectTimeoutMs)

    ws.onopen = () => {
      if (!current()) return
      if (this.connectTimer !== null) clearTimeout(this.connectTimer)
      this.connectTimer = null
      const reconnect = this.everOpened
      this.everOpened = true
      this.attempt = 0
      this.setState('online')
      this.lastBeatAt = Date.now()
      this.resumePending = false
      this.startHeartbeat(ws)
      // The first frame tells the server the socket is open: until then a push that API
      // Gateway answered 410 (it does while `$connect` runs) does not make it forget us.
      this.beat(ws)
      this.opts.onOpen?.({ reconnect })
    }
    ws.onmessage = (ev: MessageEvent) => {
      if (!current()) return
      // Any frame proves the connection alive.
      if (this.pongTimer !== null) clearTimeout(this.pongTimer)
      this.pongTimer = null
      let event: ServerEvent
      try {
        event = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data)) as ServerEvent
      } catch {
        return
      }
      if (!event || typeof event.type !== 'string') return
      if (event.type === 'pong') {
        if (this.resumePending) {
          this.resumePending = false
          this.opts.onResume?.()
        }
        return
      }
      this.opts.onEvent?.(event)
    }
    ws.onerror = () => {
      // A close always follows; it decides.
    }
    ws.onclose = () => {
      if (!current()) return
      this.stopTimers()
      this.socket = null
      this.generation++
      this.scheduleReconnect()
    }
  }

  private startHeartbeat(ws: WebSocketLike): void {
    this.heartbeatTimer = setInterval(() => this.beat(ws), this.opts.heartbeatMs)
  }

  /** Pings now if the last heartbeat is due (the page became visible again, say). */
  heartbeatNow(): void {
    const ws = this.socket
    if (!ws || this.state !== 'online') return
    if (this.lastBeatAt !== null && Date.now() - this.lastBeatAt < this.opts.heartbeatMs) return
    this.beat(ws)
  }

  private beat(ws: WebSocketLike): void {
    if (this.socket !== ws || ws.readyState !== WS_OPEN) return
    const now = Date.now()
    if (this.lastBeatAt !== null && now - this.lastBeatAt > this.opts.staleAfterMs) this.resumePending = true
    this.lastBeatAt = now
    if (!this.send({ action: 'ping' })) return
    if (this.pongTimer !== null) return
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null
      if (this.socket !== ws) return
      this.abandonSocket(4000, 'heartbeat timeout')
      this.scheduleReconnect()
    }, this.opts.pongTimeoutMs)
  }
}

export interface UseSocket {
  start: () => void
  send: (action: ClientAction) => boolean
  reconnectNow: () => void
  /** Removes the window listeners and stops the client. */
  dispose: () => void
}

/** The socket, following the browser's online/offline and visibility events. */
export function useSocket(options: SocketClientOptions): UseSocket {
  const client = new SocketClient(options)
  const onOnline = () => client.reconnectNow()
  const onOffline = () => client.handleOffline()
  const onVisible = () => {
    if (document.visibilityState === 'visible') client.heartbeatNow()
  }
  if (typeof window !== 'undefined') {
    window.addEventListener('online', onOnline)
    window.addEventListener('offline', onOffline)
    document.addEventListener('visibilitychange', onVisible)
  }
  return {
    start: () => client.start(),
    send: (a) => client.send(a),
    reconnectNow: () => client.reconnectNow(),
    dispose: () => {
      if (typeof window !== 'undefined') {
        window.removeEventListener('online', onOnline)
        window.removeEventListener('offline', onOffline)
        document.removeEventListener('visibilitychange', onVisible)
      }
      client.stop()
    },
  }
}

/**
 * The socket's URL for a ticket: `<wsUrl>?ticket=...` when /config.json names one (API
 * Gateway's `wss://<id>.execute-api.<region>.amazonaws.com/<stage>`), else
 * `ws(s)://<host>/ws?ticket=...` for the page's own origin.
 */
export function socketUrl(ticket: string, wsUrl = '', page: string = typeof location !== 'undefined' ? location.href : ''): string {
  const url = wsUrl ? new URL(wsUrl) : new URL('/ws', page)
  if (!wsUrl) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('ticket', ticket)
  return url.toString()
}

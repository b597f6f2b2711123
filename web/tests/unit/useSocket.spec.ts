import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../src/api/client'
import { SocketClient, backoffDelay, socketUrl } from '../../src/composables/useSocket'
import type { ConnectionState, ServerEvent } from '../../src/types'
import { FakeWebSocket } from './fixtures'

describe('backoffDelay', () => {
  it('doubles per attempt from the base, with jitter in [d/2, d]', () => {
    const opts = { baseMs: 1000, maxMs: 30_000 }
    expect(backoffDelay(0, opts, () => 0)).toBe(500)
    expect(backoffDelay(0, opts, () => 1)).toBe(1000)
    expect(backoffDelay(1, opts, () => 0)).toBe(1000)
    expect(backoffDelay(1, opts, () => 1)).toBe(2000)
    expect(backoffDelay(3, opts, () => 0.5)).toBe(6000)
  })

  it('is capped at 30 s however many attempts failed', () => {
    const opts = { baseMs: 1000, maxMs: 30_000 }
    for (const attempt of [5, 6, 10, 50, 1000]) {
      expect(backoffDelay(attempt, opts, () => 1)).toBeLessThanOrEqual(30_000)
      expect(backoffDelay(attempt, opts, () => 0)).toBeGreaterThanOrEqual(15_000)
    }
  })

  it('stays within its bounds for random jitter', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const d = Math.min(30_000, 1000 * 2 ** attempt)
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(attempt)
        expect(delay).toBeGreaterThanOrEqual(d / 2)
        expect(delay).toBeLessThanOrEqual(d)
      }
    }
  })
})

describe('socketUrl', () => {
  it('builds ws:// or wss:// from the page origin with the ticket', () => {
    expect(socketUrl('abc', '', 'http://127.0.0.1:8080/messages/x')).toBe('ws://127.0.0.1:8080/ws?ticket=abc')
    expect(socketUrl('a+b/c=', '', 'https://chat.example.com/')).toBe('wss://chat.example.com/ws?ticket=a%2Bb%2Fc%3D')
  })

  it("appends the ticket to /config.json's wsUrl when it names one (API Gateway's stage URL)", () => {
    const wsUrl = 'wss://abc123.execute-api.eu-west-1.amazonaws.com/prod'
    expect(socketUrl('t1', wsUrl, 'https://app.example.com/messages')).toBe(`${wsUrl}?ticket=t1`)
  })
})

describe('SocketClient', () => {
  let tickets: number
  let getTicket: ReturnType<typeof vi.fn<() => Promise<string>>>
  let states: ConnectionState[]
  let events: ServerEvent[]
  let opens: boolean[]
  let online: boolean

  function client(overrides: Partial<ConstructorParameters<typeof SocketClient>[0]> = {}) {
    return new SocketClient({
      getTicket,
      buildUrl: (t) => `ws://test.local/ws?ticket=${t}`,
      createSocket: (url) => new FakeWebSocket(url),
      random: () => 0.5,
      isOnline: () => online,
      onStateChange: (s) => states.push(s),
      onEvent: (e) => events.push(e),
      onOpen: ({ reconnect }) => opens.push(reconnect),
      ...overrides,
    })
  }

  beforeEach(() => {
    vi.useFakeTimers()
    FakeWebSocket.reset()
    tickets = 0
    getTicket = vi.fn(async () => `t${++tickets}`)
    states = []
    events = []
    opens = []
    online = true
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('connects with a fresh ticket and reports connecting → online', async () => {
    const c = client()
    c.start()
    expect(states).toEqual(['connecting'])
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(FakeWebSocket.last().ticket).toBe('t1')
    FakeWebSocket.last().open()
    expect(states).toEqual(['connecting', 'online'])
    expect(opens).toEqual([false])
    c.stop()
  })

  it('passes events on and swallows pongs', async () => {
    const c = client()
    c.start()
    await vi.advanceTimersByTimeAsync(0)
    const ws = FakeWebSocket.last()
    ws.open()
    ws.receive({ type: 'pong', data: { at: 'now' } })
    ws.receive({ type: 'user-joined', data: { userId: 'u1', name: 'U', at: 'now' } })
    ws.onmessage?.({ data: 'not json' } as MessageEvent)
    expect(events.map((e) => e.type)).toEqual(['user-joined'])
    c.stop()
  })

  it('reconnects after a drop with backoff, asking for a new ticket every time', async () => {
    const c = client()
    c.start()
    await vi.advanceTimersByTimeAsync(0)
    FakeWebSocket.last().open()

    FakeWebSocket.last().drop()
    expect(states[states.length - 1]).toBe('reconnecting')
    // attempt 0: 0.5 × jitter in [500, 1000] → 750 ms with random() = 0.5
    await vi.advanceTimersByTimeAsync(749)
    expect(FakeWebSocket.instances).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(FakeWebSocket.last().ticket).toBe('t2')

    // This attempt fails before opening: the next waits longer (attempt 1 → 1500 ms).
    FakeWebSocket.last().drop()
    await vi.advanceTimersByTimeAsync(1499)
    expect(FakeWebSocket.instances).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeWebSocket.instances).toHaveLength(3)
    expect(FakeWebSocket.last().ticket).toBe('t3')
    expect(getTicket).toHaveBeenCalledTimes(3)

    FakeWebSocket.last().open()
    expect(opens).toEqual([false, true])
    expect(c.attempt).toBe(0)
    expect(states[states.length - 1]).toBe('online')
    c.stop()
  })

  it('backs off when the ticket request itself fails, and never reuses a ticket', async () => {
    getTicket.mockRejectedValueOnce(new ApiError(0, 'network', 'down')).mockRejectedValueOnce(new ApiError(503, 'unavailable', 'x'))
    const c = client()
    c.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeWebSocket.instances).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(750) // attempt 0
    expect(FakeWebSocket.instances).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1500) // attempt 1
    expect(FakeWebSocket.instances).toHaveLength(1)
    const used = FakeWebSocket.instances.map((w) => w.ticket)
    expect(new Set(used).size).toBe(used.length)
    c.stop()
  })

  it('stops for good, without a retry, when the ticket request is refused with 401', async () => {
    getTicket.mockRejectedValue(new ApiError(401, 'unauthenticated', 'expired'))
    const c = client()
    c.start()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(getTicket).toHaveBeenCalledTimes(1)
    expect(c.state).toBe('offline')
    c.reconnectNow() // "Retry now" cannot bring it back either
    await vi.advanceTimersByTimeAsync(60_000)
    expect(getTicket).toHaveBeenCalledTimes(1)
  })

  it('pings on open and every 25 s, and treats a missing answer as a dead connection', async () => {
    const c = client()
    c.start()
    await vi.advanceTimersByTimeAsync(0)
    const ws = FakeWebSocket.last()
    ws.open()
    // At once: the server learns that the socket is open.
    expect(ws.actions()).toEqual([{ action: 'ping' }])
    ws.receive({ type: 'pong', data: { at: 'now' } })

    await vi.advanceTimersByTimeAsync(24_999)
    expect(ws.actions()).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(ws.actions()).toEqual([{ action: 'ping' }, { action: 'ping' }])
    ws.receive({ type: 'pong', data: { at: 'now' } })

    await vi.advanceTimersByTimeAsync(25_000)
    expect(ws.actions()).toHaveLength(3)
    // No pong this time: after the 10 s pong timeout the socket is abandoned...
    await vi.advanceTimersByTimeAsync(9_999)
    expect(ws.closed).toBeNull()
    await vi.advanceTimersByTimeAsync(1)
    expect(ws.closed).not.toBeNull()
    expect(c.state).toBe('reconnecting')
    // ...and a new connection (with a new ticket) follows the backoff.
    await vi.advanceTimersByTimeAsync(750)
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(FakeWebSocket.last().ticket).toBe('t2')
    c.stop()
  })

  it('after a heartbeat gap long enough to expire the connection, asks for a catch-up once the pong arrives', async () => {
    const onResume = vi.fn()
    const c = client({ onResume })
    c.start()
    await vi.advanceTimersByTimeAsync(0)
    const ws = FakeWebSocket.last()
    ws.open()
    ws.receive({ type: 'pong', data: { at: 'now' } })
    await vi.advanceTimersByTimeAsync(25_000)
    ws.receive({ type: 'pong', data: { at: 'now' } })
    expect(onResume).not.toHaveBeenCalled()
    // The machine sleeps for two minutes: no timer ran meanwhile.
    vi.setSystemTime(Date.now() + 120_000)
    c.heartbeatNow() // the page became visible again
    expect(ws.actions()).toHaveLength(3)
    expect(onResume).not.toHaveBeenCalled()
    ws.receive({ type: 'pong', data: { at: 'now' } })
    expect(onResume).toHaveBeenCalledTimes(1)
    c.stop()
  })

  it('gives up on an attempt that never opens (connect timeout)', async () => {
    const c = client({ connectTimeoutMs: 5000 })
    c.start()
    await vi.advanceTimersByTimeAsync(5000)
    expect(FakeWebSocket.instances[0]!.closed).not.toBeNull()
    await vi.advanceTimersByTimeAsync(750)
    expect(FakeWebSocket.instances).toHaveLength(2)
    c.stop()
  })

  it('goes offline with the browser and reconnects at once when it is back', async () => {
    const c = client()
    c.start()
    await vi.advanceTimersByTimeAsync(0)
    const first = FakeWebSocket.last()
    first.open()
    online = false
    c.handleOffline()
    expect(first.closed).not.toBeNull()
    expect(c.state).toBe('offline')
    online = true
    c.reconnectNow()
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeWebSocket.instances).toHaveLength(2)
    FakeWebSocket.last().open()
    expect(c.state).toBe('online')
    // Late callbacks of the abandoned socket change nothing.
    first.onclose?.({} as CloseEvent)
    expect(c.state).toBe('online')
    c.stop()
  })

  it('sends actions only while open, and stop() ends reconnecting', async () => {
    const c = client()
    expect(c.send({ action: 'ping' })).toBe(false)
    c.start()
    await vi.advanceTimersByTimeAsync(0)
    const ws = FakeWebSocket.last()
    expect(c.send({ action: 'typing', conversationId: 'x' })).toBe(false)
    ws.open()
    expect(c.send({ action: 'typing', conversationId: 'x' })).toBe(true)
    expect(ws.actions()).toEqual([{ action: 'ping' }, { action: 'typing', conversationId: 'x' }])
    c.stop()
    expect(ws.closed?.code).toBe(1000)
    await vi.advanceTimersByTimeAsync(120_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(c.state).toBe('idle')
  })
})

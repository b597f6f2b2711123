import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError } from '../../src/api/client'
import { headersToSend, uploadFile } from '../../src/api/upload'
import { MAX_FILE_BYTES, MAX_FILES, checkFile, formatBytes, resolveContentType, selectFiles } from '../../src/utils/files'
import { charCount } from '../../src/utils/format'
import { participantError } from '../../src/utils/people'

describe('attachment rules (checked before any upload)', () => {
  it('allows listed types and refuses others, SVG included', () => {
    expect(resolveContentType('a.png', 'image/png')).toBe('image/png')
    expect(resolveContentType('a.PDF', 'application/pdf')).toBe('application/pdf')
    expect(resolveContentType('x.svg', 'image/svg+xml')).toBeNull()
    expect(resolveContentType('x.exe', 'application/x-msdownload')).toBeNull()
    expect(resolveContentType('x.html', 'text/html')).toBeNull()
  })

  it('falls back to the extension when the browser reports no type, and normalises aliases', () => {
    expect(resolveContentType('photo.heic', '')).toBe('image/heic')
    expect(resolveContentType('data.csv', 'application/octet-stream')).toBe('text/csv')
    expect(resolveContentType('noext', '')).toBeNull()
    expect(resolveContentType('p.jpg', 'image/jpg')).toBe('image/jpeg')
    expect(resolveContentType('a.zip', 'application/x-zip-compressed')).toBe('application/zip')
  })

  it('enforces 10 MB per file and at least one byte', () => {
    expect(MAX_FILE_BYTES).toBe(10_485_760)
    expect(checkFile({ name: 'a.png', size: MAX_FILE_BYTES, type: 'image/png' }).ok).toBe(true)
    expect(checkFile({ name: 'a.png', size: MAX_FILE_BYTES + 1, type: 'image/png' })).toMatchObject({ ok: false, reason: 'larger than 10 MB' })
    expect(checkFile({ name: 'a.png', size: 0, type: 'image/png' }).ok).toBe(false)
  })

  it('enforces at most 5 files per message, counting those already attached', () => {
    const file = (n: number) => ({ name: `f${n}.txt`, size: 10, type: 'text/plain' })
    const picked = [1, 2, 3, 4].map(file)
    const { accepted, rejected } = selectFiles(picked, 2)
    expect(MAX_FILES).toBe(5)
    expect(accepted.map((a) => a.file.name)).toEqual(['f1.txt', 'f2.txt', 'f3.txt'])
    expect(rejected).toEqual([{ name: 'f4.txt', reason: 'at most 5 files per message' }])
  })

  it('formats sizes and counts characters like the server (scalar values, trimmed)', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(MAX_FILE_BYTES)).toBe('10 MB')
    expect(charCount('  😀é  ')).toBe(2)
  })
})

class FakeXhr {
  static last: FakeXhr
  opened: [string, string] | null = null
  headers: [string, string][] = []
  body: unknown = null
  status = 0
  responseText = ''
  upload = { onprogress: null as ((e: ProgressEvent) => void) | null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  ontimeout: (() => void) | null = null
  constructor() {
    FakeXhr.last = this
  }
  open(method: string, url: string) {
    this.opened = [method, url]
  }
  setRequestHeader(name: string, value: string) {
    if (name.toLowerCase() === 'content-length') throw new Error('Refused to set unsafe header "Content-Length"')
    this.headers.push([name, value])
  }
  send(body: unknown) {
    this.body = body
  }
  abort() {
    this.onabort?.()
  }
}

describe('uploads with XMLHttpRequest', () => {
  const request = {
    method: 'PUT',
    url: 'http://127.0.0.1:8080/blobs/attachments/c/f?X-Signature=s',
    headers: [
      ['Content-Type', 'image/png'],
      ['Content-Length', '10'],
    ] as [string, string][],
    expiresAt: '2026-11-23T10:00:00.000Z',
  }

  it('uses exactly the signed method, URL and headers, except Content-Length', async () => {
    expect(headersToSend(request.headers)).toEqual([['Content-Type', 'image/png']])
    const progress: number[] = []
    const blob = new Blob([new Uint8Array(10)], { type: 'image/png' })
    const handle = uploadFile(request, blob, (p) => progress.push(p), () => new FakeXhr() as unknown as XMLHttpRequest)
    const xhr = FakeXhr.last
    expect(xhr.opened).toEqual(['PUT', request.url])
    expect(xhr.headers).toEqual([['Content-Type', 'image/png']])
    expect(xhr.body).toBe(blob)
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 4, total: 10 } as ProgressEvent)
    xhr.status = 200
    xhr.onload?.()
    await handle.promise
    expect(progress).toEqual([0.4, 1])
  })

  it('rejects with the server message on a refused upload', async () => {
    const handle = uploadFile(request, new Blob(['x']), () => {}, () => new FakeXhr() as unknown as XMLHttpRequest)
    const xhr = FakeXhr.last
    xhr.status = 403
    xhr.responseText = JSON.stringify({ error: { code: 'blob_access_denied', message: 'the signature expired' } })
    xhr.onload?.()
    await expect(handle.promise).rejects.toThrow('the signature expired')
  })
})

describe('ApiClient', () => {
  it('turns the error body into an ApiError with code, message and field', async () => {
    const fetch = vi.fn(async () =>
      new Response(JSON.stringify({ error: { code: 'validation_failed', message: 'body: must not be empty', field: 'body' } }), { status: 400 }),
    )
    const client = new ApiClient({ getToken: () => 't', fetch })
    const err = await client.sendMessage('c', { body: ' ', clientMessageId: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 400, code: 'validation_failed', field: 'body', message: 'body: must not be empty' })
    expect((err as ApiError).retryable).toBe(false)
  })

  it('tells a new message (201) from a replay (200), and authenticates every call', async () => {
    const stored = { id: 'm1', seq: 1 }
    const fetch = vi
      .fn<typeof globalThis.fetch>()
      .mockResolvedValueOnce(new Response(JSON.stringify(stored), { status: 201 }))
      .mockResolvedValueOnce(new Response(JSON.stringify(stored), { status: 200 }))
    const client = new ApiClient({ getToken: () => 'tok', fetch })
    expect((await client.sendMessage('c', { body: 'a', clientMessageId: 'x' })).created).toBe(true)
    expect((await client.sendMessage('c', { body: 'a', clientMessageId: 'x' })).created).toBe(false)
    const init = fetch.mock.calls[0]![1]!
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok')
  })

  it('reports network failures as retryable status 0 and 401s to the session', async () => {
    const onUnauthorized = vi.fn()
    const down = new ApiClient({ getToken: () => 't', fetch: async () => Promise.reject(new TypeError('Failed to fetch')) })
    await expect(down.me()).rejects.toMatchObject({ status: 0, retryable: true })
    const expired = new ApiClient({ getToken: () => 't', onUnauthorized, fetch: async () => new Response('{}', { status: 401 }) })
    await expect(expired.me()).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('encodes query parameters and leaves empty ones out', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => new Response(JSON.stringify({ items: [], nextCursor: null })))
    const client = new ApiClient({ getToken: () => 't', fetch })
    await client.listConversations({ q: 'a&b', cursor: null })
    expect(fetch.mock.calls[0]![0]).toBe('/api/messaging/conversations?q=a%26b')
  })

  it('manages conversations with the contract\'s routes and bodies (people by id only)', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async (_input, init) =>
      init?.method === 'DELETE' ? new Response(null, { status: 204 }) : new Response('{}', { status: 200 }),
    )
    const client = new ApiClient({ getToken: () => 't', fetch })
    await client.createConversation({ title: 'Garden', participantIds: ['u-client-ana'] })
    await client.renameConversation('c/1', { title: 'Patio' })
    await client.addParticipants('c/1', { participantIds: ['u-team-cleo'] })
    await expect(client.removeParticipant('c/1', 'u-client-ana')).resolves.toBeUndefined()
    await client.setPreferences('c/1', { muted: true })
    await client.renameMe({ name: 'Ben C.' })
    await client.searchPeople({ q: 'an', limit: 20 })
    const sent = fetch.mock.calls.map(([url, init]) => [init!.method, url, init!.body ? JSON.parse(String(init!.body)) : null])
    expect(sent).toEqual([
      ['POST', '/api/messaging/conversations', { title: 'Garden', participantIds: ['u-client-ana'] }],
      ['PATCH', '/api/messaging/conversations/c%2F1', { title: 'Patio' }],
      ['POST', '/api/messaging/conversations/c%2F1/participants', { participantIds: ['u-team-cleo'] }],
      ['DELETE', '/api/messaging/conversations/c%2F1/participants/u-client-ana', null],
      ['PATCH', '/api/messaging/conversations/c%2F1/preferences', { muted: true }],
      ['PATCH', '/api/messaging/me', { name: 'Ben C.' }],
      ['GET', '/api/messaging/people?q=an&limit=20', null],
    ])
  })

  it('names the person a refused participant id is about', () => {
    const people = [
      { userId: 'u-team-cleo', name: 'Cleo Park' },
      { userId: 'u-client-omar', name: 'Omar Haddad' },
    ]
    const forbidden = new ApiError(403, 'forbidden', 'participantIds[1]: u-client-omar is a client; clients may start conversations only with the team')
    expect(participantError(forbidden, people)).toBe('Omar Haddad is a client; clients may start conversations only with the team')
    const unknown = new ApiError(400, 'validation_failed', 'participantIds[0]: must be a user id', 'participantIds[0]')
    expect(participantError(unknown, people)).toBe('Cleo Park: must be a user id')
    expect(participantError(new ApiError(400, 'validation_failed', 'title: too long', 'title'), people)).toBe('title: too long')
  })
})


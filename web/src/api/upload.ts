// Uploads one file to its signed URL with XMLHttpRequest, for progress events.
//
// The grant says exactly which method, URL and headers to use (they are part of the
// signature). Content-Length is the one header left out: browsers set it from the body
// themselves and refuse to let scripts set it.

import type { SignedRequest } from '../types'

/** Headers a script must not (or need not) set; the browser sets them. */
const BROWSER_SET = new Set(['content-length', 'host', 'connection'])

export function headersToSend(headers: [string, string][]): [string, string][] {
  return headers.filter(([name]) => !BROWSER_SET.has(name.toLowerCase()))
}

export class UploadError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'UploadError'
    this.status = status
  }
}

export interface UploadHandle {
  promise: Promise<void>
  abort: () => void
}

export function uploadFile(
  request: SignedRequest,
  body: Blob,
  onProgress: (fraction: number) => void,
  createXhr: () => XMLHttpRequest = () => new XMLHttpRequest(),
): UploadHandle {
  const xhr = createXhr()
  const promise = new Promise<void>((resolve, reject) => {
    xhr.open(request.method, request.url, true)
    for (const [name, value] of headersToSend(request.headers)) {
      xhr.setRequestHeader(name, value)
    }
    xhr.upload.onprogress = (e: ProgressEvent) => {
      if (e.lengthComputable && e.total > 0) onProgress(Math.min(1, e.loaded / e.total))
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1)
        resolve()
        return
      }
      let message = `upload failed (${xhr.status})`
      try {
        const parsed = JSON.parse(xhr.responseText) as { error?: { message?: string } }
        if (parsed.error?.message) message = parsed.error.message
      } catch {
        // not JSON (S3 answers XML): keep the generic message
      }
      reject(new UploadError(xhr.status, message))
    }
    xhr.onerror = () => reject(new UploadError(0, 'upload failed: no connection'))
    xhr.onabort = () => reject(new UploadError(0, 'upload cancelled'))
    xhr.ontimeout = () => reject(new UploadError(0, 'upload timed out'))
    xhr.send(body)
  })
  return { promise, abort: () => xhr.abort() }
}

// The web client's service worker (served as /sw.js, scope "/"): it shows the Web Push
// notifications the server sends about conversations, and opens the conversation when one
// is clicked. Plain JavaScript, not bundled: the browser loads it by its stable URL.
//
// A push carries JSON { title, body, url: "/messages/<id>", tag: "<id>", conversationId }.
// One notification per conversation (its tag): a newer push replaces it, and still
// alerts (renotify). A push without a readable payload still shows something: the
// browser requires a visible notification for every push (userVisibleOnly).
//
// Everything goes through `self` (the worker's global scope), so that a test can run this
// file with a fake one.

'use strict'

const GENERIC = { title: 'New messages', body: 'Open Messages to read them.', url: '/messages', tag: 'messages' }

/** A same-origin path of the app, or the inbox: a push never sends anyone elsewhere. */
function appUrl(raw) {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//')) return GENERIC.url
  try {
    const url = new URL(raw, self.location.origin)
    return url.origin === self.location.origin ? url.pathname + url.search + url.hash : GENERIC.url
  } catch {
    return GENERIC.url
  }
}

/** What a push event says, checked; null when it carries nothing usable. */
function payloadOf(event) {
  try {
    const data = event.data ? event.data.json() : null
    if (!data || typeof data !== 'object' || typeof data.title !== 'string' || !data.title.trim()) return null
    const tag = typeof data.tag === 'string' && data.tag ? data.tag : typeof data.conversationId === 'string' ? data.conversationId : ''
    return {
      title: data.title,
      body: typeof data.body === 'string' ? data.body : '',
      url: appUrl(data.url),
      tag: tag || GENERIC.tag,
    }
  } catch {
    // Not JSON (or no data at all).
    return null
  }
}

/**
 * Keeps the worker alive until `promise` settles. A synthetic event (dispatched by a test
 * or DevTools rather than the browser) cannot be extended: then the work simply runs.
 */
function keepAlive(event, promise) {
  try {
    event.waitUntil(promise)
  } catch {
    // InvalidStateError: not a trusted event.
  }
  return promise
}

function showPush(event) {
  const payload = payloadOf(event) || GENERIC
  return self.registration.showNotification(payload.title, {
    body: payload.body,
    tag: payload.tag,
    data: { url: payload.url },
    renotify: true,
  })
}

/**
 * Focuses a window of the app and tells it to open `url` (the app router.push()es it,
 * keeping its state and socket), or opens a new window when there is none.
 */
async function openUrl(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
  const ours = windows.filter((c) => {
    try {
      return new URL(c.url).origin === self.location.origin
    } catch {
      return false
    }
  })
  const client = ours.find((c) => c.focused) || ours.find((c) => c.visibilityState === 'visible') || ours[0]
  if (!client) return self.clients.openWindow(url)
  try {
    await client.focus()
  } catch {
    // Focusing needs the click's user activation; a synthetic click has none.
  }
  client.postMessage({ type: 'open-url', url })
  return client
}

self.addEventListener('install', () => {
  // A new version takes over at once: there is no cache to migrate.
  self.skipWaiting()
})

self.addEventListener('activate', (event) => {
  keepAlive(event, self.clients.claim())
})

self.addEventListener('push', (event) => {
  keepAlive(event, showPush(event))
})

self.addEventListener('notificationclick', (event) => {
  const notification = event.notification
  notification.close()
  const url = appUrl(notification.data && notification.data.url)
  keepAlive(event, openUrl(url))
})

// The service worker (public/sw.js, served as /sw.js): registered at start where the
// browser has them, so that Web Push can reach this device once the user enables it on
// the notification settings page — never asking for the permission here. A click on a
// notification in a window already open makes the worker post `{ type: 'open-url', url }`;
// the router opens it in place.

import type { Router } from 'vue-router'

export const SERVICE_WORKER_URL = '/sw.js'

/** A path of this app (`/messages/…`), never another origin nor a protocol-relative URL. */
export function isAppPath(url: unknown): url is string {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')
}

/** Opens the urls the worker posts (`open-url`), from the worker of this origin only. */
export function listenToServiceWorker(container: ServiceWorkerContainer, router: Pick<Router, 'push'>, origin: string = location.origin): void {
  container.addEventListener('message', (event: MessageEvent) => {
    if (event.origin && event.origin !== origin) return
    const data = event.data as { type?: unknown; url?: unknown } | null
    if (data?.type === 'open-url' && isAppPath(data.url)) void router.push(data.url).catch(() => undefined)
  })
  // Messages posted before this listener existed are delivered now.
  container.startMessages?.()
}

/** Registers the worker (scope "/") and listens to it; nothing where there are no workers. */
export function registerServiceWorker(router: Pick<Router, 'push'>): void {
  if (!('serviceWorker' in navigator)) return
  const container = navigator.serviceWorker
  listenToServiceWorker(container, router)
  container.register(SERVICE_WORKER_URL, { scope: '/' }).catch((e: unknown) => {
    // Private windows and some embedded browsers refuse workers: push is then unavailable.
    console.info('service worker not registered:', e instanceof Error ? e.message : e)
  })
}

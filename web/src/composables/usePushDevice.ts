// Web Push on this device, for the signed-in user: whether the browser can, whether the
// user blocked notifications for the site, and whether this device is subscribed.
//
// Enabling is the user's own action (a button): only then is the permission asked for —
// first, before anything else is awaited, so that the click's user activation still
// holds — then the server's VAPID key fetched, the browser subscribed through the service
// worker's PushManager and the subscription given to the server, whose id is kept in
// localStorage per user (so that "Disable on this device" can remove it, and a reload
// knows this device is on). Nothing here ever runs at start.

import { ref } from 'vue'
import { ApiError, errorMessage, type ApiClient } from '../api/client'
import { addPushSubscription, getPushConfig, removePushSubscription, type PushSubscriptionBody } from '../api/notifications'
import { SERVICE_WORKER_URL } from '../serviceWorker'

export type PushState = 'checking' | 'unsupported' | 'denied' | 'off' | 'subscribed'

/** What the browser offers (injected by the tests). */
export interface PushEnvironment {
  serviceWorker: ServiceWorkerContainer | null
  notification: Pick<typeof Notification, 'permission' | 'requestPermission'> | null
  /** `PushManager` exists (Safari outside a home-screen app has workers but no push). */
  pushManager: boolean
  storage: Storage | null
}

export function browserPushEnvironment(): PushEnvironment {
  const w = typeof window === 'undefined' ? undefined : window
  let storage: Storage | null = null
  try {
    storage = w?.localStorage ?? null
  } catch {
    storage = null
  }
  return {
    serviceWorker: w && 'serviceWorker' in navigator ? navigator.serviceWorker : null,
    notification: w && 'Notification' in w ? w.Notification : null,
    pushManager: !!w && 'PushManager' in w,
    storage,
  }
}

export const PUSH_SUBSCRIPTION_KEY = 'messaging.push-subscription'

/** The localStorage key of a user's subscription id on this device. */
export function subscriptionKey(userId: string): string {
  return `${PUSH_SUBSCRIPTION_KEY}.${userId}`
}

/** base64url (padded or not) → bytes, for `applicationServerKey`. */
export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.trim().replace(/=+$/, '')
  const b64 = clean.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (clean.length % 4)) % 4)
  const binary = atob(b64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

function sameBytes(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false
  const x = new Uint8Array(a)
  return x.length === b.length && x.every((v, i) => v === b[i])
}

/** How long to wait for the service worker to be active before giving up. */
const WORKER_READY_MS = 10_000

export function usePushDevice(api: ApiClient, userId: () => string | null, env: PushEnvironment = browserPushEnvironment()) {
  const state = ref<PushState>('checking')
  const busy = ref(false)
  const error = ref<string | null>(null)

  const supported = !!env.serviceWorker && !!env.notification && env.pushManager

  function storedId(): string | null {
    const user = userId()
    return user ? (env.storage?.getItem(subscriptionKey(user)) ?? null) : null
  }

  function storeId(id: string | null) {
    const user = userId()
    if (!user) return
    if (id) env.storage?.setItem(subscriptionKey(user), id)
    else env.storage?.removeItem(subscriptionKey(user))
  }

  async function registration(): Promise<ServiceWorkerRegistration | undefined> {
    return (await env.serviceWorker?.getRegistration('/')) ?? undefined
  }

  /** The worker registered at start, active; registered now if it was not. */
  async function activeRegistration(): Promise<ServiceWorkerRegistration> {
    const container = env.serviceWorker!
    if (!(await container.getRegistration('/'))) await container.register(SERVICE_WORKER_URL, { scope: '/' })
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the service worker did not start')), WORKER_READY_MS)
    })
    try {
      return await Promise.race([container.ready, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Reads where this device stands (on mount, and after each change). */
  async function refresh(): Promise<void> {
    if (!supported) {
      state.value = 'unsupported'
      return
    }
    if (env.notification!.permission === 'denied') {
      state.value = 'denied'
      return
    }
    try {
      const subscription = await (await registration())?.pushManager.getSubscription()
      const id = storedId()
      if (subscription && id && env.notification!.permission === 'granted') {
        state.value = 'subscribed'
        return
      }
      if (id && !subscription) {
        // The browser dropped the subscription (site data cleared, expiry): forget it here
        // and on the server, whose pushes to it would fail anyway.
        storeId(null)
        void removePushSubscription(api, id).catch(() => undefined)
      }
      state.value = 'off'
    } catch (e) {
      state.value = 'off'
      error.value = `Could not read this device's notification state: ${errorMessage(e)}`
    }
  }

  async function enable(): Promise<void> {
    if (!supported || busy.value) return
    busy.value = true
    error.value = null
    try {
      // First, while the click still counts as the user's: browsers ask only then.
      const permission = await env.notification!.requestPermission()
      if (permission === 'denied') {
        state.value = 'denied'
        return
      }
      if (permission !== 'granted') {
        state.value = 'off'
        error.value = 'Notifications were not allowed. Choose “Enable” again and allow them when the browser asks.'
        return
      }
      const { publicKey } = await getPushConfig(api)
      const key = base64UrlToBytes(publicKey)
      const reg = await activeRegistration()
      let subscription = await reg.pushManager.getSubscription()
      // Subscribed with another key (the server's keys changed): that one no longer works.
      if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
        await subscription.unsubscribe()
        subscription = null
      }
      subscription ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key })
      const { id } = await addPushSubscription(api, subscription.toJSON() as PushSubscriptionBody)
      storeId(id)
      state.value = 'subscribed'
    } catch (e) {
      if (e instanceof DOMException && e.name === 'NotAllowedError') {
        state.value = env.notification!.permission === 'denied' ? 'denied' : 'off'
      }
      error.value = `Could not enable push notifications: ${errorMessage(e)}`
    } finally {
      busy.value = false
    }
  }

  async function disable(): Promise<void> {
    if (!supported || busy.value) return
    busy.value = true
    error.value = null
    try {
      const subscription = await (await registration())?.pushManager.getSubscription()
      await subscription?.unsubscribe()
      const id = storedId()
      storeId(null)
      state.value = 'off'
      if (id) {
        try {
          await removePushSubscription(api, id)
        } catch (e) {
          // Already gone on the server: what was wanted.
          if (!(e instanceof ApiError && e.status === 404)) throw e
        }
      }
    } catch (e) {
      error.value = `Could not disable push notifications: ${errorMessage(e)}`
    } finally {
      busy.value = false
    }
  }

  return { state, busy, error, supported, refresh, enable, disable }
}

/**
 * Signing out on this device: its push subscription goes too, so that a shared computer
 * stops showing the previews of someone who left. Best effort and bounded: the browser's
 * subscription is dropped (the push service then refuses the server's pushes to it) and
 * the server's copy deleted while the token still works; signing out never waits long.
 */
export async function forgetPushOnSignOut(
  api: ApiClient,
  userId: string,
  env: PushEnvironment = browserPushEnvironment(),
  timeoutMs = 2000,
): Promise<void> {
  const id = env.storage?.getItem(subscriptionKey(userId)) ?? null
  if (!id) return
  env.storage?.removeItem(subscriptionKey(userId))
  const work = (async () => {
    try {
      const registration = await env.serviceWorker?.getRegistration('/')
      await (await registration?.pushManager.getSubscription())?.unsubscribe()
    } catch {
      // No worker, or the browser refused: the server's copy still goes.
    }
    await removePushSubscription(api, id).catch(() => undefined)
  })()
  await Promise.race([work, new Promise((resolve) => setTimeout(resolve, timeoutMs))])
}

// Start: /config.json first (where the API, the socket and the sign-in are), then who is
// signed in in this tab, then the router, whose guards need to know, and the app.

import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import App from './App.vue'
import { configureApi, useApi } from './api'
import { createAuth, setAuth } from './auth'
import StartupError from './components/StartupError.vue'
import { drafts } from './composables/drafts'
import { restoreOutbox, takeOutbox } from './composables/outbox'
import { startMessaging, stopMessaging, suspendMessaging } from './composables/useMessaging'
import { socketUrl } from './composables/useSocket'
import { ConfigError, loadConfig } from './config'
import { createAppRouter } from './router'
import { registerServiceWorker } from './serviceWorker'
import { useMessagingStore } from './stores/messagingStore'
import { SESSION_ENDED_NOTICE, useSessionStore } from './stores/sessionStore'
import './styles.css'

async function start() {
  const config = await loadConfig()
  const auth = createAuth(config.auth)
  setAuth(auth)

  const app = createApp(App)
  app.use(createPinia())
  const session = useSessionStore()
  const store = useMessagingStore()

  /**
   * The session ended under the user's feet: silent renewal failed and the access token
   * expired, or any 401 (a REST call, or the socket's ticket once the server closed a
   * disabled user's socket). The service stops, so nothing retries meanwhile, but the
   * page, the store and what is pending stay; App says so, with "Sign in again".
   */
  function expire() {
    if (session.expire()) suspendMessaging()
  }
  configureApi({ baseUrl: config.apiBaseUrl, getToken: () => auth.accessToken(), onUnauthorized: expire })

  if (location.pathname === config.auth.redirectPath) {
    // A sign-in is being completed: it replaces whatever this tab held before.
    session.signOut()
  } else {
    const subject = await auth.resume()
    if (!subject) {
      if (session.signedIn) session.signOut(SESSION_ENDED_NOTICE)
    } else if (subject !== session.subject) {
      // Tokens without the profile that goes with them: start again.
      await auth.forget()
      session.signOut()
    }
  }
  // Only now: an expiry reported while `resume` was renewing is not one.
  auth.onExpired(expire)

  const router = createAppRouter({ callbackPath: config.auth.redirectPath })
  app.use(router)

  // One messaging service (and socket) per signed-in user. What they had not sent when
  // their session expired comes back once they signed in again — to them only.
  watch(
    () => session.user?.userId ?? null,
    (userId) => {
      stopMessaging()
      store.reset()
      drafts.clear()
      if (!userId) return
      store.setMe(session.user)
      const messaging = startMessaging({ api: useApi(), store, buildSocketUrl: (ticket) => socketUrl(ticket, config.wsUrl) })
      const outbox = takeOutbox(userId)
      if (outbox) restoreOutbox(outbox, messaging, drafts)
    },
    { immediate: true },
  )

  app.mount('#app')
  // For Web Push on this device (enabled, with the permission, on the settings page only).
  registerServiceWorker(router)
}

start().catch((e: unknown) => {
  const message =
    e instanceof ConfigError
      ? `The configuration (/config.json) is missing or invalid: ${e.message}`
      : `Starting failed: ${e instanceof Error ? e.message : String(e)}`
  console.error(message)
  createApp(StartupError, { message }).mount('#app')
})

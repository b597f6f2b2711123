import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import App from './App.vue'
import { configureApi, useApi } from './api'
import { drafts } from './composables/drafts'
import { startMessaging, stopMessaging } from './composables/useMessaging'
import { createAppRouter } from './router'
import { useMessagingStore } from './stores/messagingStore'
import { SESSION_ENDED_NOTICE, useSessionStore } from './stores/sessionStore'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
const router = createAppRouter()
app.use(router)

const session = useSessionStore()
const store = useMessagingStore()

/**
 * Any 401, whichever request got it (a REST call, or the socket's ticket once the server
 * closed a disabled user's socket): the one way back to the login, saying why. The
 * service stops first, so nothing retries meanwhile.
 */
function expire() {
  if (!session.signedIn) return
  stopMessaging()
  session.signOut(SESSION_ENDED_NOTICE)
  store.reset()
  void router.replace({ name: 'login' })
}

configureApi({ getToken: () => session.token, onUnauthorized: expire })

// One messaging service (and socket) per signed-in user.
watch(
  () => session.user?.userId ?? null,
  (userId) => {
    stopMessaging()
    store.reset()
    drafts.clear()
    if (!userId) return
    store.setMe(session.user)
    startMessaging({ api: useApi(), store })
  },
  { immediate: true },
)

app.mount('#app')

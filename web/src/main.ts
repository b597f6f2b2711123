import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import App from './App.vue'
import { configureApi, useApi } from './api'
import { drafts } from './composables/drafts'
import { startMessaging, stopMessaging } from './composables/useMessaging'
import { createAppRouter } from './router'
import { useMessagingStore } from './stores/messagingStore'
import { useSessionStore } from './stores/sessionStore'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
const router = createAppRouter()
app.use(router)

const session = useSessionStore()
const store = useMessagingStore()

function expire() {
  if (!session.signedIn) return
  stopMessaging()
  session.signOut('Your session has ended. Please sign in again.')
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
    startMessaging({ api: useApi(), store, onUnauthorized: expire })
  },
  { immediate: true },
)

app.mount('#app')

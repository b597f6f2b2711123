import { createRouter, createWebHistory, type Router } from 'vue-router'
import { useSessionStore } from './stores/sessionStore'

/** `callbackPath` is the redirect URI's path (/config.json's `auth.redirectPath`). */
export function createAppRouter(options: { callbackPath: string }): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { public: true } },
      { path: options.callbackPath, name: 'auth-callback', component: () => import('./pages/AuthCallbackPage.vue'), meta: { public: true } },
      { path: '/', redirect: '/messages' },
      { path: '/messages/:conversationId?', name: 'messages', component: () => import('./pages/MessagesPage.vue') },
      { path: '/admin', name: 'admin', component: () => import('./pages/AdminPage.vue'), meta: { admin: true } },
      { path: '/settings/notifications', name: 'notification-settings', component: () => import('./pages/NotificationSettingsPage.vue') },
      // An email's link: works without signing in (the token is the permission).
      { path: '/unsubscribe', name: 'unsubscribe', component: () => import('./pages/UnsubscribePage.vue'), meta: { public: true } },
      { path: '/:pathMatch(.*)*', redirect: '/messages' },
    ],
  })
  router.beforeEach((to) => {
    const session = useSessionStore()
    if (!to.meta.public && !session.signedIn) {
      return { name: 'login', query: to.fullPath !== '/' && to.fullPath !== '/messages' ? { redirect: to.fullPath } : {} }
    }
    if (to.name === 'login' && session.signedIn) return { path: '/messages' }
    if (to.meta.admin && !session.isAdmin) return { path: '/messages' }
    return true
  })
  return router
}

/// <reference types="vite/client" />

import 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown without a session (the login, the sign-in callback, an email's unsubscribe link). */
    public?: boolean
    /** Admins only. */
    admin?: boolean
  }
}

/// <reference types="vite/client" />

import 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown without a session (the login, the sign-in callback). */
    public?: boolean
    /** Admins only. */
    admin?: boolean
  }
}

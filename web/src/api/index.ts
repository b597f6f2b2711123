// The app's one REST client, authenticated with the session's token.

import { ApiClient } from './client'

let instance: ApiClient | null = null
let tokenSource: () => string | null = () => null
let unauthorizedHandler: () => void = () => {}

export function configureApi(options: { getToken: () => string | null; onUnauthorized: () => void }) {
  tokenSource = options.getToken
  unauthorizedHandler = options.onUnauthorized
}

export function useApi(): ApiClient {
  instance ??= new ApiClient({
    getToken: () => tokenSource(),
    onUnauthorized: () => unauthorizedHandler(),
  })
  return instance
}

/** For tests: use this client instead. */
export function setApi(client: ApiClient | null) {
  instance = client
}

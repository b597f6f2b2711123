// The app's one REST client, at /config.json's `apiBaseUrl`, authenticated with the
// current access token.

import { ApiClient } from './client'

let instance: ApiClient | null = null
let baseUrl = ''
let tokenSource: () => string | null = () => null
let unauthorizedHandler: () => void = () => {}

export function configureApi(options: { baseUrl: string; getToken: () => string | null; onUnauthorized: () => void }) {
  baseUrl = options.baseUrl
  tokenSource = options.getToken
  unauthorizedHandler = options.onUnauthorized
}

export function useApi(): ApiClient {
  instance ??= new ApiClient({
    baseUrl,
    getToken: () => tokenSource(),
    onUnauthorized: () => unauthorizedHandler(),
  })
  return instance
}

/** For tests: use this client instead. */
export function setApi(client: ApiClient | null) {
  instance = client
}

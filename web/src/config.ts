// The runtime configuration: where the API, the socket and the OpenID Connect provider
// are. It is fetched at start from `/config.json` (the local gateway serves it; a
// deployed stack serves a file of the same shape beside the client), so that one build
// runs against the local gateway, Cognito or any standard provider. Parsed once, here:
// past `parseConfig` every field is known to be usable, and a bad file names its field.

export interface AuthConfig {
  /** The OIDC issuer; discovery at `<authority>/.well-known/openid-configuration`. */
  authority: string
  clientId: string
  scope: string
  /** redirect_uri = this page's origin + redirectPath. */
  redirectPath: string
  postLogoutRedirectPath: string
  /**
   * Cognito's `/logout`, whose discovery has no end_session_endpoint; null for a
   * provider that has one.
   */
  logoutUrl: string | null
  /**
   * Cognito's `/oauth2/revoke` (also missing from its discovery): signing out revokes the
   * refresh token there, since Cognito's `/logout` leaves it valid. Null: the provider's
   * revocation_endpoint, if it has one.
   */
  revocationUrl: string | null
  /** Silent renewal starts this long before the access token expires. */
  renewSecondsBeforeExpiry: number
}

export interface AppConfig {
  /** Prepended to the REST paths; '' for this page's origin. */
  apiBaseUrl: string
  /** The WebSocket endpoint; '' for ws(s)://<this origin>/ws. */
  wsUrl: string
  auth: AuthConfig
}

export const CONFIG_PATH = '/config.json'

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

type Fields = Record<string, unknown>

function object(value: unknown, name: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${name}: must be an object`)
  return value as Fields
}

function text(fields: Fields, key: string, name: string, options: { empty?: boolean } = {}): string {
  const value = fields[key]
  if (typeof value !== 'string') throw new ConfigError(`${name}: must be a string`)
  if (!options.empty && !value.trim()) throw new ConfigError(`${name}: must not be empty`)
  return value.trim()
}

/** An absolute URL with one of `protocols`, without a trailing slash (paths are appended to it). */
function url(value: string, name: string, protocols: string[]): string {
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new ConfigError(`${name}: must be an absolute URL`)
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name}: must be a ${protocols.join(' or ')} URL`)
  return value.replace(/\/+$/, '')
}

/** A path of this origin ("/auth/callback"), never one that leaves it ("//evil.example"). */
function path(fields: Fields, key: string, name: string): string {
  const value = text(fields, key, name)
  if (!value.startsWith('/') || value.startsWith('//')) throw new ConfigError(`${name}: must be a path starting with a single /`)
  return value
}

export function parseConfig(value: unknown): AppConfig {
  const root = object(value, 'config')
  const apiBaseUrl = text(root, 'apiBaseUrl', 'apiBaseUrl', { empty: true })
  const wsUrl = text(root, 'wsUrl', 'wsUrl', { empty: true })
  const auth = object(root.auth, 'auth')
  const scope = text(auth, 'scope', 'auth.scope')
  if (!scope.split(/\s+/).includes('openid')) throw new ConfigError('auth.scope: must include openid')
  const optionalUrl = (key: string): string | null => {
    const value = auth[key] ?? null
    if (value !== null && typeof value !== 'string') throw new ConfigError(`auth.${key}: must be a string or null`)
    return value && value.trim() ? url(value.trim(), `auth.${key}`, ['http:', 'https:']) : null
  }
  const renew = auth.renewSecondsBeforeExpiry
  if (typeof renew !== 'number' || !Number.isFinite(renew) || renew <= 0) {
    throw new ConfigError('auth.renewSecondsBeforeExpiry: must be a positive number of seconds')
  }
  return {
    apiBaseUrl: apiBaseUrl && url(apiBaseUrl, 'apiBaseUrl', ['http:', 'https:']),
    wsUrl: wsUrl && url(wsUrl, 'wsUrl', ['ws:', 'wss:']),
    auth: {
      authority: url(text(auth, 'authority', 'auth.authority'), 'auth.authority', ['http:', 'https:']),
      clientId: text(auth, 'clientId', 'auth.clientId'),
      scope,
      redirectPath: path(auth, 'redirectPath', 'auth.redirectPath'),
      postLogoutRedirectPath: path(auth, 'postLogoutRedirectPath', 'auth.postLogoutRedirectPath'),
      logoutUrl: optionalUrl('logoutUrl'),
      revocationUrl: optionalUrl('revocationUrl'),
      renewSecondsBeforeExpiry: renew,
    },
  }
}

/** Fetches and parses `/config.json`, never from a cache: a deployment may change it. */
export async function loadConfig(fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init)): Promise<AppConfig> {
  let response: Response
  try {
    response = await fetchImpl(CONFIG_PATH, { cache: 'no-store', headers: { Accept: 'application/json' } })
  } catch (e) {
    throw new ConfigError(`${CONFIG_PATH} could not be fetched: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (!response.ok) throw new ConfigError(`${CONFIG_PATH} answered ${response.status}`)
  let json: unknown
  try {
    json = await response.json()
  } catch {
    throw new ConfigError(`${CONFIG_PATH} is not JSON`)
  }
  return parseConfig(json)
}

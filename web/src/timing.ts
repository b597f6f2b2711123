// Every timing rule of the web client, in milliseconds, in one place. The server's own
// (presence TTL 90 s, typing TTL 6 s, ticket TTL 30 s) are in shared/core's Settings;
// these are chosen against them.

/** A heartbeat (`ping`) this often: well inside the server's 90 s presence TTL. */
export const HEARTBEAT_MS = 25_000
/** No frame this long after a ping: the connection is dead (half-open TCP). */
export const PONG_TIMEOUT_MS = 10_000
/** A socket that has not opened after this long is abandoned and retried. */
export const CONNECT_TIMEOUT_MS = 15_000
/** A heartbeat gap longer than this (a sleeping laptop) may have let the server expire us. */
export const STALE_AFTER_MS = 60_000
/** Reconnect backoff: from this, doubling, with jitter... */
export const BACKOFF_BASE_MS = 1000
/** ...up to this. */
export const BACKOFF_MAX_MS = 30_000

/** At most one `typing` action this often while the user types. */
export const TYPING_THROTTLE_MS = 2000
/** `stop-typing` after the user paused this long. */
export const TYPING_IDLE_MS = 4000
/** A typing indicator stays this long past its announced expiry before it is dropped. */
export const TYPING_MARGIN_MS = 1500
/** The sweep that drops expired typing indicators runs this long after the margin. */
export const TYPING_SWEEP_SLACK_MS = 100

/**
 * An access token's expiry ends the session only if no renewal lands within this long:
 * after a sleep (or a throttled background tab) the renewal and the expiry fall due at once.
 */
export const SESSION_EXPIRY_GRACE_MS = 5000
/** Search boxes wait this long after the last keystroke. */
export const SEARCH_DEBOUNCE_MS = 300

/** A send refused with 429 waits what `Retry-After` says, but never longer than this... */
export const RATE_LIMIT_MAX_WAIT_MS = 60_000
/** ...or, when the answer did not say, backs off from this, doubling (with jitter). */
export const RATE_LIMIT_BACKOFF_BASE_MS = 2000
/** Automatic resends of one rate-limited message before it is shown as not sent (Retry). */
export const RATE_LIMIT_MAX_RETRIES = 10

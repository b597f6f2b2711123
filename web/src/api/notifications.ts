// Notifications on the wire: my settings (`/me/notifications`), this browser's Web Push
// subscription (`/push/config`, `/me/push-subscriptions`) and the unsubscribe link of an
// email (`/unsubscribe`, no sign-in). Declared here until api/wire.ts generates them;
// the calls go through the app's ApiClient like every other route.
//
// The per-conversation level and emails go through the existing
// `PATCH .../conversations/{id}/preferences` (ApiClient.setPreferences).

import type { NotifyLevel } from '../types'
import { notifyLevelOf } from '../utils/notify'
import type { ApiClient } from './client'

export type { NotifyLevel }

/** A daily window, in the user's time zone, in which nothing is pushed and emails wait. */
export interface QuietHours {
  /** `HH:MM`, local time. */
  start: string
  end: string
  /** An IANA time zone name (`Europe/Paris`). */
  timeZone: string
}

/** `GET` / `PUT /api/messaging/me/notifications`: PUT takes the whole object. */
export interface NotificationSettings {
  /** The level of conversations that do not set their own. */
  level: NotifyLevel
  push: boolean
  email: boolean
  /** How long an unread message waits before it is emailed: 0 to 86,400 s. */
  emailDelaySeconds: number
  quietHours: QuietHours | null
}

/** The longest email delay the server accepts (a day). */
export const MAX_EMAIL_DELAY_SECONDS = 86_400

/** `GET /api/messaging/push/config`: the VAPID public key browsers subscribe with. */
export interface PushConfig {
  /** base64url, an uncompressed P-256 point. */
  publicKey: string
}

/** `POST /api/messaging/me/push-subscriptions`: what `PushSubscription.toJSON()` gives. */
export interface PushSubscriptionBody {
  endpoint: string
  expirationTime?: number | null
  keys: { p256dh: string; auth: string }
}

export interface PushSubscriptionCreated {
  id: string
}

/** `POST /api/messaging/unsubscribe`'s answer: the conversation the link was about. */
export interface Unsubscribed {
  conversationId: string
  title: string
}

/**
 * What a push message carries (the service worker, public/sw.js, shows it): one
 * notification per conversation (`tag`), opening `url` when clicked.
 */
export interface PushPayload {
  title: string
  body: string
  url: string
  tag: string
  conversationId: string
}

/** The settings in the contract's words, whichever spelling of the level the server used. */
function readSettings(raw: NotificationSettings): NotificationSettings {
  return { ...raw, level: notifyLevelOf(raw.level) ?? 'all' }
}

export async function getNotificationSettings(api: ApiClient): Promise<NotificationSettings> {
  return readSettings(await api.request('GET', '/api/messaging/me/notifications'))
}

/** Stores the whole object; resolves with what the server stored (a 400 names the field). */
export async function saveNotificationSettings(api: ApiClient, settings: NotificationSettings): Promise<NotificationSettings> {
  return readSettings(await api.request('PUT', '/api/messaging/me/notifications', { body: settings }))
}

export function getPushConfig(api: ApiClient): Promise<PushConfig> {
  return api.request('GET', '/api/messaging/push/config')
}

/** 201 with the subscription's id (the same browser subscribing again keeps its id). */
export function addPushSubscription(api: ApiClient, subscription: PushSubscriptionBody): Promise<PushSubscriptionCreated> {
  return api.request('POST', '/api/messaging/me/push-subscriptions', { body: subscription })
}

export async function removePushSubscription(api: ApiClient, id: string): Promise<void> {
  await api.request('DELETE', `/api/messaging/me/push-subscriptions/${encodeURIComponent(id)}`)
}

/**
 * Follows an email's unsubscribe link. The token is the permission: the call goes without
 * the bearer token (whoever is signed in in this browser is beside the point), and a
 * refusal never ends a session.
 */
export function unsubscribe(api: ApiClient, token: string): Promise<Unsubscribed> {
  return api.request('POST', '/api/messaging/unsubscribe', { body: { token }, anonymous: true })
}

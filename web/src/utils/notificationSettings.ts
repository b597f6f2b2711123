// The notification settings form's rules: the email delays offered, the time zones that
// may be chosen (only names this browser knows, so that an unknown one cannot be sent),
// the form's state to and from the wire object, and where a server error goes.

import { MAX_EMAIL_DELAY_SECONDS, type NotificationSettings, type NotifyLevel } from '../api/notifications'

export const LEVELS: { value: NotifyLevel; label: string }[] = [
  { value: 'all', label: 'All messages' },
  { value: 'mentions', label: 'Only mentions' },
  { value: 'none', label: 'Nothing' },
]

/** The email delays offered, in seconds. */
export const EMAIL_DELAYS = [0, 300, 600, 1800, 3600, 14_400] as const

/** "Immediately", "After 5 minutes", "After 1 hour", "After 90 seconds". */
export function delayLabel(seconds: number): string {
  if (seconds <= 0) return 'Immediately'
  if (seconds % 3600 === 0) return `After ${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`
  if (seconds % 60 === 0) return `After ${seconds / 60} minute${seconds === 60 ? '' : 's'}`
  return `After ${seconds} seconds`
}

/** The delays to offer: the usual ones, plus a stored one that is not among them. */
export function delayOptions(current: number): { value: number; label: string }[] {
  const values: number[] = [...EMAIL_DELAYS]
  if (!values.includes(current) && current >= 0 && current <= MAX_EMAIL_DELAY_SECONDS) values.push(current)
  return values.sort((a, b) => a - b).map((value) => ({ value, label: delayLabel(value) }))
}

/** The browser's own time zone (IANA), or UTC when it does not say. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

type IntlWithZones = typeof Intl & { supportedValuesOf?: (key: 'timeZone') => string[] }

/**
 * Every IANA time zone this browser knows, sorted, with UTC, the browser's own and any
 * `extra` (the stored one, which the server accepted) among them.
 */
export function timeZoneOptions(extra: (string | null | undefined)[] = []): string[] {
  let zones: string[] = []
  try {
    zones = (Intl as IntlWithZones).supportedValuesOf?.('timeZone') ?? []
  } catch {
    zones = []
  }
  const all = new Set([...zones, 'UTC', browserTimeZone(), ...extra.filter((z): z is string => !!z)])
  return [...all].sort((a, b) => a.localeCompare(b))
}

/** "America/New_York" as people read it: "America/New York". */
export function timeZoneLabel(zone: string): string {
  return zone.replace(/_/g, ' ')
}

/** The form's state: the wire object, with the quiet hours' fields kept while they are off. */
export interface SettingsForm {
  level: NotifyLevel
  push: boolean
  email: boolean
  emailDelaySeconds: number
  quietHoursOn: boolean
  start: string
  end: string
  timeZone: string
}

export const DEFAULT_QUIET_HOURS = { start: '22:00', end: '07:00' }

export function formFromSettings(s: NotificationSettings): SettingsForm {
  return {
    level: s.level,
    push: s.push,
    email: s.email,
    emailDelaySeconds: s.emailDelaySeconds,
    quietHoursOn: s.quietHours !== null,
    start: s.quietHours?.start ?? DEFAULT_QUIET_HOURS.start,
    end: s.quietHours?.end ?? DEFAULT_QUIET_HOURS.end,
    timeZone: s.quietHours?.timeZone ?? browserTimeZone(),
  }
}

export function settingsFromForm(f: SettingsForm): NotificationSettings {
  return {
    level: f.level,
    push: f.push,
    email: f.email,
    emailDelaySeconds: f.emailDelaySeconds,
    quietHours: f.quietHoursOn ? { start: f.start, end: f.end, timeZone: f.timeZone } : null,
  }
}

/** The fields that show their own error (the server's `field`); anything else is the form's. */
export const FIELDS = ['level', 'push', 'email', 'emailDelaySeconds', 'quietHours', 'quietHours.start', 'quietHours.end', 'quietHours.timeZone'] as const
export type SettingsField = (typeof FIELDS)[number]

export function isSettingsField(field: string | null | undefined): field is SettingsField {
  return !!field && (FIELDS as readonly string[]).includes(field)
}

/** The server's message without the field it starts with ("quietHours.timeZone: unknown…"). */
export function messageForField(field: string, message: string): string {
  const prefix = `${field}:`
  const text = message.startsWith(prefix) ? message.slice(prefix.length).trim() : message.trim()
  return text || message
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/

/** What the browser can tell before sending: times as HH:MM, start and end apart. */
export function validateForm(f: SettingsForm, zones: readonly string[]): Partial<Record<SettingsField, string>> {
  const errors: Partial<Record<SettingsField, string>> = {}
  if (!f.quietHoursOn) return errors
  if (!TIME.test(f.start)) errors['quietHours.start'] = 'Enter a time such as 22:00.'
  if (!TIME.test(f.end)) errors['quietHours.end'] = 'Enter a time such as 07:00.'
  else if (f.start === f.end) errors['quietHours.end'] = 'The end must differ from the start.'
  if (!zones.includes(f.timeZone)) errors['quietHours.timeZone'] = 'Choose a time zone from the list.'
  return errors
}

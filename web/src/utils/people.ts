// People as the UI describes them: "client · Acme Corp", and the server's complaint about
// one of the people picked (`participantIds[2]: … is not in the directory`) turned into
// one that names them.

import { ApiError, errorMessage } from '../api/client'
import type { Role } from '../types'
import { isolate } from './text'

const ROLE_LABELS: Record<Role, string> = { client: 'Client', team: 'Team', admin: 'Admin' }

/** "Client · Acme Corp", "Team". */
export function roleAndOrganisation(person: { role: Role; organisation: string | null }): string {
  const role = ROLE_LABELS[person.role] ?? person.role
  return person.organisation ? `${role} · ${person.organisation}` : role
}

/**
 * The error of a request that named `people` by id, in the order they were sent: a 400
 * (field `participantIds[i]`) or a 403 (its message starts so) about one of them names
 * them ("Omar Haddad is a client; …") rather than by index and id.
 */
export function participantError(e: unknown, people: { userId: string; name: string }[]): string {
  const text = errorMessage(e)
  if (!(e instanceof ApiError)) return text
  const at = /^participantIds\[(\d+)\]/
  const where = at.exec(e.field ?? '') ?? at.exec(text)
  const person = where ? people[Number(where[1])] : undefined
  if (!person) return text
  const reason = text.replace(/^participantIds\[\d+\]:\s*/, '')
  const name = isolate(person.name)
  return reason.startsWith(`${person.userId} `) ? `${name}${reason.slice(person.userId.length)}` : `${name}: ${reason}`
}

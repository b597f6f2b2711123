// The composer's `@` autocompletion: while `@` and letters are typed at the caret, the
// conversation's participants whose names start so (me left out) are offered in a
// listbox; ↑ ↓ move, Enter or Tab insert `@<full name> `, Escape closes the list (until
// another `@` is typed), a click inserts too.
//
// The textarea keeps the focus and its implicit textbox role throughout (a multi-line
// textarea may not be a combobox in ARIA in HTML, and a textbox may not carry
// aria-expanded): it points at the list with aria-controls and at the highlighted option
// with aria-activedescendant, and announces how many people match through a status.

import { computed, nextTick, ref, watch, type Ref } from 'vue'
import { insertMention, matchParticipants, mentionQueryAt, type MentionPerson, type MentionQuery } from '../utils/mentions'

export interface MentionAutocompleteOptions<T extends MentionPerson> {
  text: Ref<string>
  textarea: Ref<HTMLTextAreaElement | null>
  participants: () => readonly T[]
  meId: () => string | null | undefined
  /** The listbox's id; its options are `${listId}-${index}`. */
  listId: string
}

export function useMentionAutocomplete<T extends MentionPerson>(options: MentionAutocompleteOptions<T>) {
  const { text, textarea, listId } = options
  const query = ref<MentionQuery | null>(null)
  /** The `@` whose list Escape closed (or whose name was just inserted): it stays closed. */
  const dismissedAt = ref<number | null>(null)
  /** Only a composer being typed in offers names (not a draft restored on opening). */
  const focused = ref(false)
  const active = ref(0)

  const matches = computed<T[]>(() => (query.value ? matchParticipants(options.participants(), query.value.query, options.meId()) : []))
  const open = computed(() => focused.value && matches.value.length > 0 && query.value !== null && query.value.start !== dismissedAt.value)
  const activeId = computed(() => (open.value ? `${listId}-${active.value}` : undefined))
  const status = computed(() => {
    if (!open.value) return ''
    const n = matches.value.length
    return `${n} ${n === 1 ? 'person matches' : 'people match'}; ↑ ↓ to choose, Enter to insert`
  })

  // A new set of matches highlights its first.
  watch(
    () => matches.value.map((p) => p.userId).join(' '),
    () => {
      active.value = 0
    },
  )

  /** Reads the `@…` at the caret again (after typing, a click, a caret move). */
  function update() {
    const el = textarea.value
    const value = el?.value ?? text.value
    const caret = el && el.selectionStart === el.selectionEnd ? el.selectionStart : null
    const found = caret === null ? null : mentionQueryAt(value, caret)
    // Leaving the `@` that was dismissed lets it (or another) open again.
    if (found?.start !== dismissedAt.value) dismissedAt.value = null
    query.value = found
  }

  watch(text, () => void nextTick(update))

  function move(by: number) {
    const n = matches.value.length
    if (n) active.value = (active.value + by + n) % n
  }

  async function pick(person: T) {
    const q = query.value
    const el = textarea.value
    if (!q) return
    const caret = q.start + 1 + q.query.length
    const result = insertMention(text.value, q.start, caret, person.name)
    dismissedAt.value = q.start
    text.value = result.text
    await nextTick()
    el?.focus()
    el?.setSelectionRange(result.caret, result.caret)
    update()
  }

  /** The composer's keydown, first: true when the list handled the key. */
  function onKeydown(e: KeyboardEvent): boolean {
    focused.value = true
    if (!open.value || e.isComposing) return false
    const plain = !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        e.preventDefault()
        move(e.key === 'ArrowDown' ? 1 : -1)
        return true
      case 'Enter':
      case 'Tab': {
        const person = matches.value[active.value]
        if (!person || !plain) return false
        // Enter inserts the name here, it does not send the message.
        e.preventDefault()
        void pick(person)
        return true
      }
      case 'Escape':
        // Handled here: nothing around the composer (a dialog) should close.
        e.preventDefault()
        e.stopPropagation()
        dismissedAt.value = query.value?.start ?? null
        return true
      default:
        return false
    }
  }

  /** The caret may have moved without typing (arrows left and right, Home, End, a click). */
  function onCaretMove(e?: KeyboardEvent) {
    focused.value = true
    if (!e || ['ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown'].includes(e.key)) update()
  }

  function onFocus() {
    focused.value = true
  }

  function onBlur() {
    focused.value = false
  }

  return { open, matches, active, activeId, status, listId, pick, update, onKeydown, onCaretMove, onFocus, onBlur }
}


// One async action of a dialog or form at a time: `busy` while it runs, and what went
// wrong, as text, when it fails. The caller decides what success does (close, clear).

import { ref } from 'vue'
import { errorMessage } from '../api/client'

export function useAction() {
  const busy = ref(false)
  const error = ref<string | null>(null)

  /** Runs `action` unless one is running; resolves with whether it succeeded. */
  async function run(action: () => Promise<void>, describe: (e: unknown) => string = errorMessage): Promise<boolean> {
    if (busy.value) return false
    busy.value = true
    error.value = null
    try {
      await action()
      return true
    } catch (e) {
      error.value = describe(e)
      return false
    } finally {
      busy.value = false
    }
  }

  return { busy, error, run }
}

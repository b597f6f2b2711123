// Short-lived notices ("Copied", "Could not delete the message: ..."), read out by
// screen readers through the toast region's aria-live.

import { reactive } from 'vue'
import type { Toast } from '../types'

const toasts = reactive<Toast[]>([])
let nextId = 1

export function showToast(text: string, tone: Toast['tone'] = 'info', ms = 4000): number {
  const id = nextId++
  toasts.push({ id, text, tone })
  if (ms > 0) setTimeout(() => dismissToast(id), ms)
  return id
}

export function dismissToast(id: number) {
  const i = toasts.findIndex((t) => t.id === id)
  if (i >= 0) toasts.splice(i, 1)
}

export function useToasts() {
  return { toasts, showToast, dismissToast }
}

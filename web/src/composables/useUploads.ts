// Attachments in the composer: check the limits before anything leaves the browser
// (5 files, 10 MB each, allowed types), ask for signed upload URLs, upload each file with
// progress, and hand the uploaded file ids to the message.

import { computed, reactive, ref } from 'vue'
import { errorMessage, type ApiClient } from '../api/client'
import { uploadFile, type UploadHandle } from '../api/upload'
import type { FileMeta, UploadItem, UploadSlot } from '../types'
import { MAX_FILES, isPreviewableImage, selectFiles } from '../utils/files'

let localIds = 0

export function useUploads(api: ApiClient, conversationId: () => string) {
  const items = ref<UploadItem[]>([])
  const rejected = ref<{ name: string; reason: string }[]>([])
  const files = new Map<string, File>()
  const handles = new Map<string, UploadHandle>()

  const busy = computed(() => items.value.some((i) => i.status === 'queued' || i.status === 'uploading'))
  const failed = computed(() => items.value.some((i) => i.status === 'failed'))
  const ready = computed(() => items.value.length > 0 && items.value.every((i) => i.status === 'done'))
  const remaining = computed(() => MAX_FILES - items.value.length)

  function item(localId: string): UploadItem | undefined {
    return items.value.find((i) => i.localId === localId)
  }

  function startUpload(localId: string, slot: UploadSlot) {
    const it = item(localId)
    const file = files.get(localId)
    if (!it || !file) return
    it.status = 'uploading'
    it.progress = 0
    it.error = null
    const handle = uploadFile(slot.upload, file, (fraction) => {
      const current = item(localId)
      if (current) current.progress = fraction
    })
    handles.set(localId, handle)
    handle.promise.then(
      () => {
        const current = item(localId)
        if (!current) return
        current.status = 'done'
        current.progress = 1
        current.fileId = slot.id
      },
      (e: unknown) => {
        const current = item(localId)
        if (!current) return
        current.status = 'failed'
        current.error = errorMessage(e)
      },
    ).finally(() => handles.delete(localId))
  }

  /** Grants signed uploads for these items in one request, then uploads each. */
  async function grantAndUpload(localIds: string[]) {
    const batch = localIds.map((id) => item(id)).filter((i): i is UploadItem => !!i)
    if (!batch.length) return
    for (const it of batch) {
      it.status = 'queued'
      it.error = null
    }
    try {
      const grant = await api.requestUploads(
        conversationId(),
        batch.map((i) => ({ name: i.name, size: i.size, contentType: i.contentType })),
      )
      grant.files.forEach((slot, index) => {
        const it = batch[index]
        if (it) startUpload(it.localId, slot)
      })
    } catch (e) {
      // The server's 400s (too many, too large, type not allowed) are shown per file.
      for (const it of batch) {
        const current = item(it.localId)
        if (current) {
          current.status = 'failed'
          current.error = errorMessage(e)
        }
      }
    }
  }

  /** Adds picked files: refused ones are listed with their reason, the rest upload. */
  async function addFiles(picked: File[] | FileList) {
    const list = Array.from(picked)
    const { accepted, rejected: refused } = selectFiles(list, items.value.length)
    rejected.value = refused
    const ids: string[] = []
    for (const { file, contentType } of accepted) {
      const localId = `u${++localIds}`
      files.set(localId, file)
      const previewUrl =
        isPreviewableImage(contentType) && typeof URL.createObjectURL === 'function'
          ? URL.createObjectURL(file)
          : null
      items.value.push(
        reactive<UploadItem>({
          localId,
          name: file.name.trim(),
          size: file.size,
          contentType,
          status: 'queued',
          progress: 0,
          error: null,
          fileId: null,
          previewUrl,
        }),
      )
      ids.push(localId)
    }
    await grantAndUpload(ids)
  }

  /** Retries one failed upload with a fresh grant (the old signed URL may have expired). */
  async function retry(localId: string) {
    await grantAndUpload([localId])
  }

  function remove(localId: string) {
    handles.get(localId)?.abort()
    handles.delete(localId)
    const it = item(localId)
    if (it?.previewUrl) URL.revokeObjectURL(it.previewUrl)
    files.delete(localId)
    items.value = items.value.filter((i) => i.localId !== localId)
  }

  /** The uploaded files, for the message. */
  function uploaded(): FileMeta[] {
    return items.value
      .filter((i) => i.status === 'done' && i.fileId)
      .map((i) => ({ id: i.fileId!, name: i.name, size: i.size, contentType: i.contentType }))
  }

  /** Clears the composer's attachments after a send (keeps nothing in flight). */
  function reset() {
    for (const it of items.value) if (it.previewUrl) URL.revokeObjectURL(it.previewUrl)
    for (const h of handles.values()) h.abort()
    handles.clear()
    files.clear()
    items.value = []
    rejected.value = []
  }

  return { items, rejected, busy, failed, ready, remaining, addFiles, retry, remove, uploaded, reset }
}

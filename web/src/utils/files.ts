// Attachment rules, mirrored from shared/core/src/service/files.rs so that the UI can
// refuse a file before uploading it. The server checks again (and its 400s are shown).

export const MAX_FILES = 5
export const MAX_FILE_BYTES = 10 * 1024 * 1024 // 10,485,760

/** Declared content types the server accepts (no SVG: it can carry script). */
export const ALLOWED_TYPES: readonly string[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/heic',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/rtf',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'video/mp4',
  'video/webm',
  'video/quicktime',
  'audio/mpeg',
  'audio/wav',
  'audio/ogg',
  'audio/mp4',
  'audio/webm',
  'application/zip',
  'application/gzip',
  'application/x-7z-compressed',
  'application/x-tar',
]

/** Types browsers report under other names, mapped to the name the server expects. */
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/heif': 'image/heic',
  'text/rtf': 'application/rtf',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/mp3': 'audio/mpeg',
  'audio/x-m4a': 'audio/mp4',
  'audio/m4a': 'audio/mp4',
  'application/x-zip-compressed': 'application/zip',
  'application/x-gzip': 'application/gzip',
  'application/vnd.ms-word': 'application/msword',
}

/** When the browser reports no type (common for .heic, .csv, .7z), the extension decides. */
const BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heic',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  rtf: 'application/rtf',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  '7z': 'application/x-7z-compressed',
  tar: 'application/x-tar',
}

/** The `accept` attribute of the file picker. */
export const ACCEPT = [...ALLOWED_TYPES, ...Object.keys(BY_EXTENSION).map((e) => `.${e}`)].join(',')

/** The content type to declare for a file, or null if the server would refuse it. */
export function resolveContentType(name: string, browserType: string): string | null {
  const essence = (browserType.split(';')[0] ?? '').trim().toLowerCase()
  const normalised = ALIASES[essence] ?? essence
  if (normalised && ALLOWED_TYPES.includes(normalised)) return normalised
  const ext = name.includes('.') ? name.split('.').pop()!.toLowerCase() : ''
  if (!essence || essence === 'application/octet-stream') {
    return BY_EXTENSION[ext] ?? null
  }
  return null
}

export interface FileCheck {
  ok: boolean
  contentType: string | null
  reason: string | null
}

export function checkFile(file: { name: string; size: number; type: string }): FileCheck {
  const name = file.name.trim()
  if (!name || [...name].length > 255) {
    return { ok: false, contentType: null, reason: 'the file name must be 1 to 255 characters' }
  }
  if (file.size === 0) return { ok: false, contentType: null, reason: 'the file is empty' }
  if (file.size > MAX_FILE_BYTES) {
    return { ok: false, contentType: null, reason: `larger than ${formatBytes(MAX_FILE_BYTES)}` }
  }
  const contentType = resolveContentType(file.name, file.type)
  if (!contentType) {
    return { ok: false, contentType: null, reason: 'this type of file is not allowed' }
  }
  return { ok: true, contentType, reason: null }
}

/** Splits picked files into those to upload and those refused (with a reason each). */
export function selectFiles<F extends { name: string; size: number; type: string }>(
  picked: F[],
  alreadyAttached: number,
): { accepted: { file: F; contentType: string }[]; rejected: { name: string; reason: string }[] } {
  const accepted: { file: F; contentType: string }[] = []
  const rejected: { name: string; reason: string }[] = []
  for (const file of picked) {
    const check = checkFile(file)
    if (!check.ok || !check.contentType) {
      rejected.push({ name: file.name, reason: check.reason ?? 'not allowed' })
    } else if (alreadyAttached + accepted.length >= MAX_FILES) {
      rejected.push({ name: file.name, reason: `at most ${MAX_FILES} files per message` })
    } else {
      accepted.push({ file, contentType: check.contentType })
    }
  }
  return { accepted, rejected }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const digits = value >= 100 || Number.isInteger(value) ? 0 : 1
  return `${value.toFixed(digits)} ${units[unit]}`
}

export type FileKind = 'image' | 'pdf' | 'doc' | 'sheet' | 'slides' | 'text' | 'video' | 'audio' | 'archive' | 'file'

export function fileKind(contentType: string): FileKind {
  if (contentType.startsWith('image/')) return 'image'
  if (contentType.startsWith('video/')) return 'video'
  if (contentType.startsWith('audio/')) return 'audio'
  if (contentType === 'application/pdf') return 'pdf'
  if (contentType.startsWith('text/')) return 'text'
  if (/spreadsheet|excel/.test(contentType)) return 'sheet'
  if (/presentation|powerpoint/.test(contentType)) return 'slides'
  if (/word|opendocument\.text|rtf/.test(contentType)) return 'doc'
  if (/zip|gzip|7z|tar/.test(contentType)) return 'archive'
  return 'file'
}

/** Images the browser can show inline (HEIC cannot be shown by most browsers). */
export function isPreviewableImage(contentType: string): boolean {
  return ['image/jpeg', 'image/png', 'image/gif', 'image/webp'].includes(contentType)
}

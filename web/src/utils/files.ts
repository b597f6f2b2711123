// Attachment rules, mirrored from shared/core/src/service/files.rs so that the UI can
// refuse a file before uploading it. The server checks again (and its 400s are shown).
// Shown files take their type from the server-verified content type, never from the name.

import { visibleText } from './text'

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

/**
 * The extensions that may name a file of each accepted type; the first is the one given to
 * a download whose name says otherwise. Text types list only extensions that nothing runs.
 */
const EXTENSIONS: Record<string, readonly string[]> = {
  'image/jpeg': ['jpg', 'jpeg', 'jpe', 'jfif'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'image/heic': ['heic', 'heif'],
  'application/pdf': ['pdf'],
  'text/plain': ['txt', 'text', 'log', 'md', 'csv', 'tsv'],
  'text/csv': ['csv', 'txt'],
  'application/rtf': ['rtf'],
  'application/msword': ['doc'],
  'application/vnd.ms-excel': ['xls'],
  'application/vnd.ms-powerpoint': ['ppt', 'pps'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['docx'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['xlsx'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['pptx'],
  'application/vnd.oasis.opendocument.text': ['odt'],
  'application/vnd.oasis.opendocument.spreadsheet': ['ods'],
  'video/mp4': ['mp4', 'm4v'],
  'video/webm': ['webm'],
  'video/quicktime': ['mov', 'qt'],
  'audio/mpeg': ['mp3'],
  'audio/wav': ['wav'],
  'audio/ogg': ['ogg', 'oga', 'opus'],
  'audio/mp4': ['m4a', 'mp4'],
  'audio/webm': ['weba', 'webm'],
  'application/zip': ['zip'],
  'application/gzip': ['gz', 'tgz'],
  'application/x-7z-compressed': ['7z'],
  'application/x-tar': ['tar'],
}

/** How an attachment is shown and saved. */
export interface FileDisplay {
  /** The name without invisible or bidi characters. */
  name: string
  /** The real type, from the content type ("PDF", "DOCX"), or null for an unknown type. */
  type: string | null
  /** The real type's extension ("pdf"), or null for an unknown type. */
  extension: string | null
  /** The extension the name claims when it is not one of the real type's ("exe"), else null. */
  claimed: string | null
  /** The name to save the file under: the shown name, ending in the real type's extension. */
  downloadName: string
}

/** The last extension of a name ("exe" for "a.pdf.exe"), lower-cased, or null. */
export function extensionOf(name: string): string | null {
  const m = /\.([\p{L}\p{N}]{1,16})$/u.exec(name)
  return m && m.index > 0 ? m[1]!.toLowerCase() : null
}

/**
 * The name and type to show for an attachment, and the name to save it under. The type is
 * the server-verified content type (the server sniffs the bytes); a name whose extension
 * disagrees (`invoice_<U+202E>fdp.exe` holding a PDF) is shown with the real type beside it
 * and saved with the real extension appended.
 */
export function describeFile(file: { name: string; contentType: string }): FileDisplay {
  const name = visibleText(file.name) || 'file'
  const allowed = EXTENSIONS[file.contentType]
  if (!allowed) return { name, type: null, extension: null, claimed: null, downloadName: name }
  const real = allowed[0]!
  const type = real.toUpperCase()
  const ext = extensionOf(name)
  if (ext && allowed.includes(ext)) return { name, type, extension: real, claimed: null, downloadName: name }
  return { name, type, extension: real, claimed: ext, downloadName: `${name}.${real}` }
}

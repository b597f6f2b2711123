// Text from other people, shown so that it cannot deceive. The server refuses bidi
// controls in titles, names and file names, but data written before that rule (or by
// another deployment) may still hold them, and message bodies keep them on purpose: the
// client confines each piece of such text (CSS `unicode-bidi: isolate` on its element,
// `isolate()` inside composed sentences) and strips invisible characters from file names.

/** Bidirectional embedding, override and isolate controls (U+202A–202E, U+2066–2069). */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/
const ISOLATE_CONTROLS = /[\u2066-\u2069]/g

/**
 * Characters that draw nothing or steer the layout: controls (Cc), format characters (Cf:
 * bidi controls and marks, zero-width spaces and joiners, word joiner, BOM, tags…) and the
 * line and paragraph separators.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu

export function hasBidiControl(text: string): boolean {
  return BIDI_CONTROL.test(text)
}

/**
 * `text` for use inside a composed sentence ("Ana is typing…", "“Title” is muted"): when it
 * holds bidi controls, it is wrapped in FSI … PDI so that an unterminated U+202E cannot
 * reorder the rest of the sentence (the PDI closes every embedding opened inside). Its own
 * isolate controls are dropped first: a stray PDI would otherwise close the wrapper early.
 * Text without bidi controls is returned unchanged.
 */
export function isolate(text: string): string {
  if (!hasBidiControl(text)) return text
  return `\u2068${text.replace(ISOLATE_CONTROLS, '')}\u2069`
}

/** `text` without its invisible and layout-steering characters, trimmed. */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, '').trim()
}

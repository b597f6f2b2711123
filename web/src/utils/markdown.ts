// Message formatting: a small, safe subset of Markdown, parsed into a tree of plain
// objects that MessageText renders as real elements and text nodes — never as HTML, so
// nothing in a body (tags, entities, `javascript:` links, attributes) can become markup.
//
// What is understood, and nothing else (no headings, images, HTML, tables, link syntax):
// - blocks: fenced code (``` … ```, shown verbatim), bulleted lists (`- ` or `* ` at a line's
//   start), numbered lists (`1. `), block quotes (`> `), and text, whose line breaks stay;
// - inline, within one line: **bold**, *italic* or _italic_, `code` (verbatim), and http(s)
//   URLs (or `www.…`) as links.
//
// The text of a body without any of these comes back as one text node equal to the body,
// so that plain messages show exactly as written. Nesting (quotes in quotes, lists in
// lists, emphasis in emphasis) is bounded: past the limit, the rest stays text.

export type InlineNode =
  | { type: 'text'; text: string }
  | { type: 'strong'; children: InlineNode[] }
  | { type: 'em'; children: InlineNode[] }
  | { type: 'code'; text: string }
  /** `href` is an absolute http(s) URL (checked); `text` is the URL as written. */
  | { type: 'link'; href: string; text: string }

export type BlockNode =
  /** Lines of text; the line breaks between them are `\n` in the text nodes. */
  | { type: 'paragraph'; children: InlineNode[] }
  | { type: 'code-block'; text: string }
  /** Each item is a list of blocks (its text, then perhaps a nested list). */
  | { type: 'list'; ordered: boolean; start: number; items: BlockNode[][] }
  | { type: 'quote'; children: BlockNode[] }

/** Deepest nesting of quotes and lists (a body of 5,000 `>` must not recurse 5,000 times). */
export const MAX_BLOCK_DEPTH = 8
/** Deepest nesting of bold and italic inside one another. */
export const MAX_INLINE_DEPTH = 8

/** `body` as blocks of inline nodes. */
export function parseMessage(body: string): BlockNode[] {
  if (!body) return []
  return parseBlocks(body.split('\n'), 0)
}

// --- blocks ------------------------------------------------------------------------------

const FENCE_OPEN = /^ {0,3}(`{3,})[^`]*$/
const FENCE_CLOSE = /^ {0,3}(`{3,})\s*$/
const QUOTE = /^ {0,3}> ?/
/** A list item: marker, at least one space, then some text. */
const LIST_ITEM = /^( {0,3})([-*]|(\d{1,9})\.)[ \t]+(?=\S)/
/** A line that belongs to the list item above it (indented by two or more). */
const CONTINUATION = /^(?: {2,}|\t)(?=\S)/

function parseBlocks(lines: string[], depth: number): BlockNode[] {
  const blocks: BlockNode[] = []
  let text: string[] = []
  const endText = () => {
    if (text.length) blocks.push({ type: 'paragraph', children: parseLines(text) })
    text = []
  }
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    const fence = FENCE_OPEN.exec(line)
    if (fence) {
      // Only a closed fence is a code block: a lone ``` is more likely a typo than a wish
      // to turn the rest of the message into code.
      const close = findFenceClose(lines, i + 1, fence[1]!.length)
      if (close >= 0) {
        endText()
        blocks.push({ type: 'code-block', text: lines.slice(i + 1, close).join('\n') })
        i = close + 1
        continue
      }
    }
    if (depth < MAX_BLOCK_DEPTH && QUOTE.test(line)) {
      endText()
      const inner: string[] = []
      while (i < lines.length && QUOTE.test(lines[i]!)) inner.push(lines[i++]!.replace(QUOTE, ''))
      blocks.push({ type: 'quote', children: parseBlocks(inner, depth + 1) })
      continue
    }
    const item = depth < MAX_BLOCK_DEPTH ? LIST_ITEM.exec(line) : null
    // A numbered line interrupts text only when it starts at 1 ("…in\n1984. It was").
    const interrupts = !item || item[3] === undefined || !text.length || text[text.length - 1]!.trim() === '' || Number(item[3]) === 1
    if (item && interrupts) {
      endText()
      i = parseList(lines, i, depth, blocks)
      continue
    }
    text.push(line)
    i++
  }
  endText()
  return blocks
}

function findFenceClose(lines: string[], from: number, length: number): number {
  for (let i = from; i < lines.length; i++) {
    const close = FENCE_CLOSE.exec(lines[i]!)
    if (close && close[1]!.length >= length) return i
  }
  return -1
}

/** The list starting at `lines[from]` into `out`; returns the index of the line after it. */
function parseList(lines: string[], from: number, depth: number, out: BlockNode[]): number {
  const first = LIST_ITEM.exec(lines[from]!)!
  const ordered = first[3] !== undefined
  const items: BlockNode[][] = []
  let i = from
  while (i < lines.length) {
    const item = LIST_ITEM.exec(lines[i]!)
    if (!item || (item[3] !== undefined) !== ordered) break
    const content = [lines[i]!.slice(item[0].length)]
    // Indented lines after an item are its own (more text, or a nested list), less the
    // indentation of its text ("- " is two, "10. " four).
    const indent = new RegExp(`^(?: {1,${item[0].length}}|\\t)`)
    i++
    while (i < lines.length && CONTINUATION.test(lines[i]!)) content.push(lines[i++]!.replace(indent, ''))
    items.push(parseBlocks(content, depth + 1))
  }
  out.push({ type: 'list', ordered, start: ordered ? Number(first[3]) : 1, items })
  return i
}

// --- inline ------------------------------------------------------------------------------

/** Lines of text: each parsed on its own (formatting never spans lines), joined by `\n`. */
function parseLines(lines: string[]): InlineNode[] {
  const nodes: InlineNode[] = []
  lines.forEach((line, i) => {
    if (i > 0) pushText(nodes, '\n')
    for (const node of parseInline(line)) {
      if (node.type === 'text') pushText(nodes, node.text)
      else nodes.push(node)
    }
  })
  return nodes
}

function pushText(nodes: InlineNode[], text: string) {
  if (!text) return
  const last = nodes[nodes.length - 1]
  if (last?.type === 'text') last.text += text
  else nodes.push({ type: 'text', text })
}

/** A run of `*` or `_`, until emphasis is resolved (CommonMark's delimiter runs). */
interface Delimiter {
  type: 'delimiter'
  char: '*' | '_'
  count: number
  canOpen: boolean
  canClose: boolean
}

type Token = InlineNode | Delimiter

const WHITESPACE = /\s/u
const PUNCTUATION = /[\p{P}\p{S}]/u
const WORD = /[\p{L}\p{N}]/u

function isSpace(c: string | undefined): boolean {
  return c === undefined || WHITESPACE.test(c)
}

function isPunctuation(c: string | undefined): boolean {
  return c !== undefined && PUNCTUATION.test(c)
}

/** One line: code spans and URLs first (nothing inside them is formatting), then emphasis. */
export function parseInline(line: string): InlineNode[] {
  const tokens: Token[] = []
  let text = ''
  const endText = () => {
    if (text) tokens.push({ type: 'text', text })
    text = ''
  }
  let i = 0
  while (i < line.length) {
    const c = line[i]!
    if (c === '`') {
      const run = runLength(line, i, '`')
      const close = findBacktickRun(line, i + run, run)
      if (close < 0) {
        text += line.slice(i, i + run)
        i += run
        continue
      }
      endText()
      tokens.push({ type: 'code', text: codeSpanText(line.slice(i + run, close)) })
      i = close + run
      continue
    }
    if ((c === 'h' || c === 'H' || c === 'w' || c === 'W') && !WORD.test(line[i - 1] ?? '')) {
      const link = linkAt(line, i)
      if (link) {
        endText()
        tokens.push({ type: 'link', href: link.href, text: link.text })
        i += link.text.length
        continue
      }
    }
    if (c === '*' || c === '_') {
      const run = runLength(line, i, c)
      endText()
      tokens.push(delimiter(line, i, run, c))
      i += run
      continue
    }
    text += c
    i++
  }
  endText()
  return resolveEmphasis(tokens)
}

function runLength(line: string, at: number, c: string): number {
  let n = 0
  while (line[at + n] === c) n++
  return n
}

/** The start of the next run of exactly `length` backticks from `from`, or -1. */
function findBacktickRun(line: string, from: number, length: number): number {
  let i = line.indexOf('`', from)
  while (i >= 0) {
    const run = runLength(line, i, '`')
    if (run === length) return i
    i = line.indexOf('`', i + run)
  }
  return -1
}

/** A code span's text: one space each side is dropped, so that `` `` ` `` `` can show a backtick. */
function codeSpanText(inner: string): string {
  return inner.length > 2 && inner.startsWith(' ') && inner.endsWith(' ') && inner.trim() ? inner.slice(1, -1) : inner
}

/**
 * Whether a run may open or close emphasis (CommonMark's flanking rules): `*` opens before
 * a word and closes after one; `_` likewise but never inside a word (snake_case_names).
 */
function delimiter(line: string, at: number, count: number, char: '*' | '_'): Delimiter {
  const before = line[at - 1]
  const after = line[at + count]
  const leftFlanking = !isSpace(after) && (!isPunctuation(after) || isSpace(before) || isPunctuation(before))
  const rightFlanking = !isSpace(before) && (!isPunctuation(before) || isSpace(after) || isPunctuation(after))
  if (char === '*') return { type: 'delimiter', char, count, canOpen: leftFlanking, canClose: rightFlanking }
  return {
    type: 'delimiter',
    char,
    count,
    canOpen: leftFlanking && (!rightFlanking || isPunctuation(before)),
    canClose: rightFlanking && (!leftFlanking || isPunctuation(after)),
  }
}

function depthOf(nodes: InlineNode[]): number {
  let depth = 0
  for (const n of nodes) if (n.type === 'strong' || n.type === 'em') depth = Math.max(depth, 1 + depthOf(n.children))
  return depth
}

/**
 * Pairs delimiter runs into bold and italic, closers from left to right each with the
 * nearest opener of the same character before it (two characters from each make bold,
 * one italic); what stays unpaired is text.
 */
function resolveEmphasis(tokens: Token[]): InlineNode[] {
  // Below these indices there is no opener left for that character (a closer that found
  // none sets it), so that a line of 2,000 closers is not searched 2,000 times.
  const floor = { '*': 0, _: 0 }
  let i = 0
  while (i < tokens.length) {
    const closer = tokens[i]!
    if (closer.type !== 'delimiter' || !closer.canClose || closer.count === 0) {
      i++
      continue
    }
    let j = i - 1
    for (; j >= floor[closer.char]; j--) {
      const t = tokens[j]!
      if (t.type === 'delimiter' && t.char === closer.char && t.canOpen && t.count > 0) break
    }
    if (j < floor[closer.char]) {
      floor[closer.char] = i
      i++
      continue
    }
    const opener = tokens[j] as Delimiter
    const use = opener.count >= 2 && closer.count >= 2 ? 2 : 1
    const children = finish(tokens.slice(j + 1, i))
    if (depthOf(children) >= MAX_INLINE_DEPTH) {
      closer.canClose = false
      continue
    }
    opener.count -= use
    closer.count -= use
    tokens.splice(j + 1, i - j - 1, { type: use === 2 ? 'strong' : 'em', children })
    // What followed the closer moved down: no floor may stay above where it now starts.
    floor['*'] = Math.min(floor['*'], j)
    floor._ = Math.min(floor._, j)
    i = j + 2
    if (opener.count === 0) {
      tokens.splice(j, 1)
      i--
    }
  }
  return finish(tokens)
}

/** Tokens as nodes: delimiters left over become their characters, neighbouring texts one. */
function finish(tokens: Token[]): InlineNode[] {
  const nodes: InlineNode[] = []
  for (const t of tokens) {
    if (t.type === 'delimiter') pushText(nodes, t.char.repeat(t.count))
    else if (t.type === 'text') pushText(nodes, t.text)
    else nodes.push(t)
  }
  return nodes
}

// --- links -------------------------------------------------------------------------------

/**
 * Where a URL stops: white space, controls and invisible format characters (a bidi
 * override is never part of a link's text), and the characters that delimit URLs in
 * prose: `<` `>` `"` and the backtick.
 */
const URL_END = /[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}<>"`]/u
/** Punctuation that ends a sentence rather than a URL: "see https://a.test/x." */
const TRAILING = new Set(['.', ',', ':', ';', '!', '?', '*', '_', '~', "'"])

/**
 * The link written at `at`: `http://…`, `https://…` or `www.…` (then `https://`), without
 * the punctuation after it, when it is a valid http(s) URL with a host. Any other scheme
 * (`javascript:`, `data:`, `file:`…) is never a link: only these three prefixes start one.
 */
export function linkAt(line: string, at: number): { href: string; text: string } | null {
  const head = line.slice(at, at + 8).toLowerCase()
  const www = head.startsWith('www.')
  if (!www && !head.startsWith('http://') && !head.startsWith('https://')) return null
  let end = at
  while (end < line.length && !URL_END.test(line[end]!)) end++
  // Trailing punctuation, and a `)` with no `(` to match it in the URL ("(see https://a.test)"),
  // belong to the sentence; balanced ones stay (https://en.wikipedia.org/wiki/Vue_(framework)).
  const open = count(line, at, end, '(')
  let close = count(line, at, end, ')')
  while (end > at) {
    const c = line[end - 1]!
    if (TRAILING.has(c)) end--
    else if (c === ')' && open < close) {
      end--
      close--
    } else break
  }
  const text = line.slice(at, end)
  // `www.` alone (or `www` at the end of a sentence) is a word, not a site.
  if (www && !/^www\.[\p{L}\p{N}]/iu.test(text)) return null
  const href = safeHref(www ? `https://${text}` : text)
  return href ? { href, text } : null
}

function count(line: string, from: number, to: number, c: string): number {
  let n = 0
  for (let i = from; i < to; i++) if (line[i] === c) n++
  return n
}

/** `url` as an absolute http(s) URL with a host (normalised by the URL parser), or null. */
export function safeHref(url: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
  if (!parsed.hostname) return null
  return parsed.href
}


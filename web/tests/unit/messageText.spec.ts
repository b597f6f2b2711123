// A message's text as the bubble shows it (MessageText): formatting as real elements,
// links that open safely, mentions inside formatted text — and a corpus of XSS vectors
// through the parser and the renderer, which must come out as text.

import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import MessageBubbleSource from '../../src/components/MessageBubble.vue?raw'
import MessageText from '../../src/components/MessageText.vue'
import MessageTextSource from '../../src/components/MessageText.vue?raw'
import markdownSource from '../../src/utils/markdown.ts?raw'
import { ANA, ME } from './fixtures'

const participants = [
  { userId: ME, name: 'Ben Carter' },
  { userId: ANA, name: 'Ana Alvarez' },
]

function render(body: string, mentions: string[] = []) {
  return mount(MessageText, { props: { body, mentions, participants, meId: ME } })
}

/** What the bubble may hold, and which attributes each element may carry. */
const ALLOWED: Record<string, string[]> = {
  DIV: ['class', 'data-testid'], // the body itself, the root
  A: ['href', 'target', 'rel', 'data-testid'],
  STRONG: [],
  EM: [],
  CODE: [],
  PRE: [],
  UL: [],
  OL: ['start'],
  LI: [],
  BLOCKQUOTE: [],
  SPAN: ['class', 'data-user-id', 'data-testid'],
}

/** Fails unless every element is allowed, with allowed attributes only, and every link is safe. */
function expectOnlySafeElements(root: Element, what: string) {
  const all = [root, ...root.querySelectorAll('*')]
  for (const el of all) {
    expect(Object.keys(ALLOWED), `${what}: <${el.tagName.toLowerCase()}>`).toContain(el.tagName)
    for (const attr of el.getAttributeNames()) expect(ALLOWED[el.tagName], `${what}: ${el.tagName.toLowerCase()}[${attr}]`).toContain(attr)
    if (el.tagName === 'DIV') expect(el, `${what}: only the root is a div`).toBe(root)
  }
  for (const a of root.querySelectorAll('a')) {
    const href = a.getAttribute('href') ?? ''
    expect(['http:', 'https:'], `${what}: href ${href}`).toContain(new URL(href).protocol)
    // Set through the DOM, never spliced into markup; still, nothing that could end an attribute.
    expect(href, `${what}: href is absolute`).toMatch(/^https?:\/\/[^\s"<>`]+$/)
    expect(a.getAttribute('target')).toBe('_blank')
    expect(a.getAttribute('rel')!.split(/\s+/).sort()).toEqual(['nofollow', 'noopener', 'noreferrer'])
  }
}

describe('MessageText: formatting', () => {
  it('renders a plain body as exactly its text, in one div', () => {
    const body = 'Line one\n  still Enter-sent <b>not bold</b>'
    const w = render(body)
    expect(w.element.tagName).toBe('DIV')
    expect(w.element.textContent).toBe(body)
    expect(w.element.children).toHaveLength(0)
  })

  it('renders bold, italic, code, code blocks, lists and quotes as their elements', () => {
    const w = render('**bold** *italic* _also_ `co*de*`\n```\n**raw** https://a.test\n```\n- one\n- two\n1. first\n> quoted *em*')
    expect(w.get('strong').text()).toBe('bold')
    expect(w.findAll('em').map((e) => e.text())).toEqual(['italic', 'also', 'em'])
    expect(w.findAll('code').map((e) => e.text())).toEqual(['co*de*', '**raw** https://a.test'])
    expect(w.get('pre > code').text()).toBe('**raw** https://a.test')
    expect(w.find('pre a').exists()).toBe(false)
    expect(w.findAll('ul > li').map((e) => e.text())).toEqual(['one', 'two'])
    expect(w.findAll('ol > li').map((e) => e.text())).toEqual(['first'])
    expect(w.get('blockquote').text()).toBe('quoted em')
    expect(w.get('blockquote em').text()).toBe('em')
    expectOnlySafeElements(w.element, 'formatting')
  })

  it('numbers a list from where it starts', () => {
    expect(render('3. c\n4. d').get('ol').attributes('start')).toBe('3')
    expect(render('1. a').get('ol').attributes('start')).toBeUndefined()
  })

  it('renders http(s) links that open in a new tab, with the URL as written', () => {
    const w = render('See https://example.com/a_(b). And www.example.org, not javascript:alert(1)')
    const links = w.findAll('a')
    expect(links.map((a) => [a.text(), a.attributes('href')])).toEqual([
      ['https://example.com/a_(b)', 'https://example.com/a_(b)'],
      ['www.example.org', 'https://www.example.org/'],
    ])
    for (const a of links) {
      expect(a.attributes('target')).toBe('_blank')
      expect(a.attributes('rel')).toBe('noopener noreferrer nofollow')
    }
    expect(w.text()).toBe('See https://example.com/a_(b). And www.example.org, not javascript:alert(1)')
  })

  it('highlights mentions inside formatted text, but not inside code or links', () => {
    const w = render('**@Ana Alvarez** said _hi @Ben Carter_\n- ask @Ana Alvarez\n`@Ana Alvarez` https://a.test/@Ana', [ANA, ME])
    const mentions = w.findAll('[data-testid=mention]')
    expect(mentions.map((m) => [m.text(), m.attributes('data-user-id'), m.classes('mention--me'), m.element.parentElement!.tagName])).toEqual([
      ['@Ana Alvarez', ANA, false, 'STRONG'],
      ['@Ben Carter', ME, true, 'EM'],
      ['@Ana Alvarez', ANA, false, 'LI'],
    ])
    expect(w.get('code').text()).toBe('@Ana Alvarez')
    expect(w.get('a').text()).toBe('https://a.test/@Ana')
  })
})

/**
 * XSS vectors, and the text each must show (the body itself unless said). None may become
 * an element other than the formatting ones, an attribute, or a link that is not http(s).
 */
const CORPUS: { body: string; text?: string }[] = [
  { body: '<script>alert(1)</script>' },
  { body: '<img src=x onerror=alert(1)>' },
  { body: '<svg onload=alert(1)>' },
  { body: '"><svg onload=alert(1)>' },
  { body: "'><script>window.__xss=1</script>" },
  { body: '<iframe src="javascript:alert(1)"></iframe>' },
  { body: '<a href="javascript:alert(1)">click</a>' },
  { body: '<a href="https://a.test" onclick="alert(1)">x</a>' },
  { body: '[x](javascript:alert(1))' },
  { body: '[x](data:text/html,<script>alert(1)</script>)' },
  { body: '[click](https://x.test" onclick="alert(1))' },
  { body: 'javascript:alert(1)' },
  { body: 'JaVaScRiPt:alert(document.cookie)' },
  { body: 'jav\tascript:alert(1)' },
  { body: 'jav&#x09;ascript:alert(1)' },
  { body: 'javascript&colon;alert(1)' },
  { body: 'vbscript:msgbox(1)' },
  { body: 'file:///etc/passwd' },
  { body: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' },
  { body: '**<b>bold</b>**', text: '<b>bold</b>' },
  { body: '*<i onmouseover=alert(1)>x</i>*', text: '<i onmouseover=alert(1)>x</i>' },
  { body: '\\u003cscript\\u003ealert(1)\\u003c/script\\u003e' },
  { body: '\u003cscript\u003ealert(1)\u003c/script\u003e' },
  { body: '＜script＞alert(1)＜/script＞' },
  { body: '&lt;script&gt;alert(1)&lt;/script&gt;' },
  { body: '&#60;img src=x onerror=alert(1)&#62;' },
  { body: 'https://x.test/"onmouseover="alert(1)' },
  { body: "https://x.test/'onmouseover='alert(1)" },
  { body: 'www.x.test/" onmouseover="alert(1)' },
  { body: 'https://a.test/<script>alert(1)</script>' },
  { body: 'http://x.test/?q=<img src=x onerror=alert(1)>' },
  { body: 'http://javascript:alert(1)' },
  { body: '`<script>alert(1)</script>`', text: '<script>alert(1)</script>' },
  { body: '```\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```', text: '<script>alert(1)</script>\n<img src=x onerror=alert(1)>' },
  { body: '> <script>alert(1)</script>', text: '<script>alert(1)</script>' },
  { body: '- <img src=x onerror=alert(1)>', text: '<img src=x onerror=alert(1)>' },
  { body: '@Ana Alvarez <img src=x onerror=alert(1)>' },
  { body: '<style>*{display:none}</style>' },
  { body: '<!-- --><script>alert(1)</script>' },
  { body: '<svg><script>alert(1)</script></svg>' },
  { body: '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>' },
  { body: '<div style="position:fixed;inset:0">covered</div>' },
  { body: '<form action="https://evil.test"><input name=p></form>' },
  { body: '\u202E<script>alert(1)</script>' },
  { body: '{{ constructor.constructor("alert(1)")() }}' },
  { body: '<template><script>alert(1)</script></template>' },
]

describe('MessageText: the XSS corpus is text', () => {
  it.each(CORPUS)('$body', ({ body, text }) => {
    const w = render(body, [ANA])
    const root = w.element as HTMLElement
    expectOnlySafeElements(root, body)
    expect(root.textContent).toBe(text ?? body)
    expect(root.querySelector('script, img, svg, iframe, style, form, input, template, math, b, i, div div')).toBeNull()
  })

  it('a link in the corpus goes where its text says, quotes left outside', () => {
    const w = render('https://x.test/"onmouseover="alert(1)')
    const a = w.get('a')
    expect([a.text(), a.attributes('href')]).toEqual(['https://x.test/', 'https://x.test/'])
    expect(a.attributes('onmouseover')).toBeUndefined()
  })

  it('the bubble never renders HTML: no v-html or innerHTML in the text components', () => {
    const sources = { 'MessageText.vue': MessageTextSource, 'MessageBubble.vue': MessageBubbleSource, 'markdown.ts': markdownSource }
    for (const [file, source] of Object.entries(sources)) {
      expect(source.length, file).toBeGreaterThan(500)
      expect(source, file).not.toMatch(/v-html|innerHTML|outerHTML|insertAdjacentHTML|createContextualFragment/)
    }
  })
})

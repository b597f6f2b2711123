// Message formatting, the parser (src/utils/markdown.ts): each construct, nesting, code
// shown verbatim, links and the punctuation around them, and what is never a link.

import { describe, expect, it } from 'vitest'
import { MAX_BLOCK_DEPTH, MAX_INLINE_DEPTH, linkAt, parseInline, parseMessage, type BlockNode, type InlineNode } from '../../src/utils/markdown'

const text = (t: string): InlineNode => ({ type: 'text', text: t })
const strong = (...children: InlineNode[]): InlineNode => ({ type: 'strong', children })
const em = (...children: InlineNode[]): InlineNode => ({ type: 'em', children })
const code = (t: string): InlineNode => ({ type: 'code', text: t })
const link = (t: string, href = t): InlineNode => ({ type: 'link', href, text: t })
const para = (...children: InlineNode[]): BlockNode => ({ type: 'paragraph', children })

/** The links found in one line, as [text, href]. */
function links(line: string): [string, string][] {
  return parseInline(line).flatMap((n) => (n.type === 'link' ? [[n.text, n.href] as [string, string]] : []))
}

describe('parseMessage: plain text', () => {
  it('is one text node equal to the body, line breaks and all', () => {
    for (const body of ['Hello Ana, the mockups are ready.', 'Line one\nstill Enter-sent', '  spaced  \n\n\nout  ', '<b>not html</b> &amp; 2 < 3', '\u202Ean override']) {
      expect(parseMessage(body)).toEqual([para(text(body))])
    }
    expect(parseMessage('')).toEqual([])
  })

  it('leaves unpaired markers as they are', () => {
    for (const body of ['2 * 3 = 6', 'a ** b', 'snake_case_name and file__name__x', '* ', '-not a list', 'lone ` tick', '**', '_', 'end with *', '4*']) {
      expect(parseMessage(body), body).toEqual([para(text(body))])
    }
  })
})

describe('parseInline: bold, italic, code', () => {
  it('reads **bold**, *italic* and _italic_', () => {
    expect(parseInline('a **b** c')).toEqual([text('a '), strong(text('b')), text(' c')])
    expect(parseInline('*one* and _two_')).toEqual([em(text('one')), text(' and '), em(text('two'))])
    expect(parseInline('__strong__')).toEqual([strong(text('strong'))])
  })

  it('nests them', () => {
    expect(parseInline('**bold *and italic***')).toEqual([strong(text('bold '), em(text('and italic')))])
    expect(parseInline('***both***')).toEqual([em(strong(text('both')))])
    expect(parseInline('*a **b** c*')).toEqual([em(text('a '), strong(text('b')), text(' c'))])
  })

  it('needs a word next to the marker inside, and _ never opens or closes inside a word', () => {
    expect(parseInline('* not italic *')).toEqual([text('* not italic *')])
    expect(parseInline('my_file_name.txt')).toEqual([text('my_file_name.txt')])
    expect(parseInline('un*frigging*believable')).toEqual([text('un'), em(text('frigging')), text('believable')])
  })

  it('keeps formatting within one line', () => {
    expect(parseMessage('**not\nbold**')).toEqual([para(text('**not\nbold**'))])
    expect(parseMessage('*one*\n*two*')).toEqual([para(em(text('one')), text('\n'), em(text('two')))])
  })

  it('shows code spans verbatim: no formatting, links or mentions inside', () => {
    expect(parseInline('run `npm **ci**` now')).toEqual([text('run '), code('npm **ci**'), text(' now')])
    expect(parseInline('`https://a.test` and `<script>`')).toEqual([code('https://a.test'), text(' and '), code('<script>')])
    expect(parseInline('``a ` b``')).toEqual([code('a ` b')])
    expect(parseInline('`` `x` ``')).toEqual([code('`x`')])
    expect(parseInline('```inline fence```')).toEqual([code('inline fence')])
    expect(parseInline('**bold `code**` x**')).toEqual([strong(text('bold '), code('code**'), text(' x'))])
  })

  it('bounds nesting: past the limit the markers are text', () => {
    // *a _a *a … b_ b*: twenty levels asked for.
    const marker = (i: number) => (i % 2 ? '_' : '*')
    const deep = Array.from({ length: 20 }, (_, i) => `${marker(i)}a `).join('') + Array.from({ length: 20 }, (_, i) => ` b${marker(19 - i)}`).join('')
    const depth = (nodes: InlineNode[]): number =>
      Math.max(0, ...nodes.map((n) => (n.type === 'strong' || n.type === 'em' ? 1 + depth(n.children) : 0)))
    expect(depth(parseInline(deep))).toBe(MAX_INLINE_DEPTH)
  })
})

describe('parseMessage: blocks', () => {
  it('reads fenced code blocks verbatim, and only closed ones', () => {
    const body = 'Try:\n```js\nconst x = **1** // https://a.test\n- not a list\n> not a quote\n```\nthen'
    expect(parseMessage(body)).toEqual([
      para(text('Try:')),
      { type: 'code-block', text: 'const x = **1** // https://a.test\n- not a list\n> not a quote' },
      para(text('then')),
    ])
    expect(parseMessage('```\n```')).toEqual([{ type: 'code-block', text: '' }])
    // An unclosed fence is text.
    expect(parseMessage('```\n*still* formatted')).toEqual([para(text('```\n'), em(text('still')), text(' formatted'))])
  })

  it('reads bulleted lists (- or *) and numbered lists', () => {
    expect(parseMessage('Todo:\n- one\n* **two**\n- three')).toEqual([
      para(text('Todo:')),
      { type: 'list', ordered: false, start: 1, items: [[para(text('one'))], [para(strong(text('two')))], [para(text('three'))]] },
    ])
    expect(parseMessage('1. first\n2. second\nafter')).toEqual([
      { type: 'list', ordered: true, start: 1, items: [[para(text('first'))], [para(text('second'))]] },
      para(text('after')),
    ])
    expect(parseMessage('3. third\n4. fourth')).toEqual([{ type: 'list', ordered: true, start: 3, items: [[para(text('third'))], [para(text('fourth'))]] }])
    // A bullet list and a numbered one are two lists.
    expect(parseMessage('- a\n1. b').map((b) => b.type === 'list' && b.ordered)).toEqual([false, true])
  })

  it('nests lists by indentation, and a number inside a sentence is not a list', () => {
    expect(parseMessage('- a\n  - b\n    more b\n- c')).toEqual([
      {
        type: 'list',
        ordered: false,
        start: 1,
        items: [[para(text('a')), { type: 'list', ordered: false, start: 1, items: [[para(text('b\nmore b'))]] }], [para(text('c'))]],
      },
    ])
    expect(parseMessage('It happened in\n1984. Then')).toEqual([para(text('It happened in\n1984. Then'))])
  })

  it('reads block quotes, with formatting and lists inside, and quotes in quotes', () => {
    expect(parseMessage('> **Ana** wrote:\n> - yes\n>> earlier\nme too')).toEqual([
      {
        type: 'quote',
        children: [
          para(strong(text('Ana')), text(' wrote:')),
          { type: 'list', ordered: false, start: 1, items: [[para(text('yes'))]] },
          { type: 'quote', children: [para(text('earlier'))] },
        ],
      },
      para(text('me too')),
    ])
  })

  it('bounds the nesting of quotes and lists', () => {
    const depth = (blocks: BlockNode[]): number =>
      Math.max(0, ...blocks.map((b) => (b.type === 'quote' ? 1 + depth(b.children) : b.type === 'list' ? 1 + Math.max(...b.items.map(depth)) : 0)))
    expect(depth(parseMessage('>'.repeat(5000) + ' deep'))).toBe(MAX_BLOCK_DEPTH)
    expect(depth(parseMessage('- '.repeat(2000) + 'deep'))).toBe(MAX_BLOCK_DEPTH)
  })

  it('knows nothing else: headings, images, HTML, tables and link syntax are text', () => {
    for (const body of ['# Heading', '![alt](x.png)', '<div>html</div>', '| a | b |\n|---|---|', '---', '[x](y)']) {
      expect(parseMessage(body), body).toEqual([para(text(body))])
    }
  })
})

describe('links', () => {
  it('turns http and https URLs into links, the text as written', () => {
    expect(parseInline('see https://example.com/a?b=1#c now')).toEqual([text('see '), link('https://example.com/a?b=1#c'), text(' now')])
    expect(links('HTTP://EXAMPLE.com')).toEqual([['HTTP://EXAMPLE.com', 'http://example.com/']])
    expect(links('http://127.0.0.1:8080/config.json')).toEqual([['http://127.0.0.1:8080/config.json', 'http://127.0.0.1:8080/config.json']])
    expect(links('https://de.wikipedia.org/wiki/Käse')).toEqual([['https://de.wikipedia.org/wiki/Käse', 'https://de.wikipedia.org/wiki/K%C3%A4se']])
  })

  it('makes www. addresses https links', () => {
    expect(links('go to www.example.com.')).toEqual([['www.example.com', 'https://www.example.com/']])
    expect(links('www. is not one, nor is www')).toEqual([])
  })

  it('leaves the punctuation after a URL out, and keeps balanced parentheses', () => {
    expect(links('Look: https://a.test/x.')).toEqual([['https://a.test/x', 'https://a.test/x']])
    expect(links('https://a.test/x, https://b.test/y; https://c.test!?')).toEqual([
      ['https://a.test/x', 'https://a.test/x'],
      ['https://b.test/y', 'https://b.test/y'],
      ['https://c.test', 'https://c.test/'],
    ])
    expect(links('(see https://a.test/x)')).toEqual([['https://a.test/x', 'https://a.test/x']])
    expect(links('https://en.wikipedia.org/wiki/Vue_(framework).')).toEqual([
      ['https://en.wikipedia.org/wiki/Vue_(framework)', 'https://en.wikipedia.org/wiki/Vue_(framework)'],
    ])
    expect(links('(https://en.wikipedia.org/wiki/Vue_(framework))')).toEqual([
      ['https://en.wikipedia.org/wiki/Vue_(framework)', 'https://en.wikipedia.org/wiki/Vue_(framework)'],
    ])
    expect(links('"https://a.test/q" and \'https://b.test\'')).toEqual([
      ['https://a.test/q', 'https://a.test/q'],
      ['https://b.test', 'https://b.test/'],
    ])
    expect(parseInline('**https://a.test**')).toEqual([strong(link('https://a.test', 'https://a.test/'))])
  })

  it('keeps underscores and stars inside a URL out of formatting', () => {
    expect(parseInline('_see https://a.test/some_path_here_')).toEqual([em(text('see '), link('https://a.test/some_path_here', 'https://a.test/some_path_here'))])
  })

  it('stops at spaces, quotes, angle brackets and invisible characters', () => {
    expect(links('https://x.test/"onmouseover="alert(1)')).toEqual([['https://x.test/', 'https://x.test/']])
    expect(links('<https://a.test>')).toEqual([['https://a.test', 'https://a.test/']])
    expect(links('https://a.test/\u202Eexe.pdf')).toEqual([['https://a.test/', 'https://a.test/']])
    expect(links('https://a.test/\u200Bhidden')).toEqual([['https://a.test/', 'https://a.test/']])
  })

  it('never links other schemes, or a URL glued to a word', () => {
    for (const line of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'ftp://example.com',
      'mailto:a@b.test',
      'xhttps://a.test',
      'https://',
      'http://javascript:alert(1)',
      '\\u006aavascript:alert(1)',
      'ｊａｖａｓｃｒｉｐｔ:alert(1)',
    ]) {
      expect(links(line), line).toEqual([])
      expect(parseInline(line), line).toEqual([text(line)])
    }
    expect(linkAt('javascript:https://a.test', 0)).toBeNull()
    // After a colon, an http URL is still one (its own scheme counts, not what precedes it).
    expect(links('javascript:https://a.test')).toEqual([['https://a.test', 'https://a.test/']])
  })
})

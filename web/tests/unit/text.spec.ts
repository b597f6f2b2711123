import { describe, expect, it } from 'vitest'
import { describeFile, extensionOf } from '../../src/utils/files'
import { hasBidiControl, isolate, visibleText } from '../../src/utils/text'

const RLO = '\u202E'
const FSI = '\u2068'
const PDI = '\u2069'

describe('text that cannot deceive', () => {
  it('strips bidi controls and other invisible format characters from shown names', () => {
    expect(visibleText(`invoice_${RLO}fdp.exe`)).toBe('invoice_fdp.exe')
    // Embeddings, overrides, isolates, marks, zero-width characters, word joiner, BOM.
    const invisible = '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C\u200B\u200C\u200D\u2060\uFEFF'
    expect(visibleText(`a${invisible}b`)).toBe('ab')
    // Controls, line and paragraph separators, soft hyphen (Cf) and tag characters too.
    expect(visibleText('a\nb\tc\u2028d\u2029e\u00ADf\u{E0041}g')).toBe('abcdefg')
    expect(visibleText(`  ${RLO}  `)).toBe('')
    // Visible text is left alone: accents, right-to-left letters, emoji.
    expect(visibleText('Ngữ văn – تقرير 📄.pdf')).toBe('Ngữ văn – تقرير 📄.pdf')
  })

  it('isolates text with bidi controls inside a sentence, and leaves other text as it is', () => {
    expect(isolate('Ana Alvarez')).toBe('Ana Alvarez')
    expect(isolate('تقرير')).toBe('تقرير')
    expect(hasBidiControl(`x${RLO}y`)).toBe(true)
    expect(hasBidiControl('plain')).toBe(false)
    expect(isolate(`Eve${RLO}gnp`)).toBe(`${FSI}Eve${RLO}gnp${PDI}`)
    // A stray PDI inside cannot close the wrapper early and let the override out.
    expect(isolate(`a${PDI}${RLO}b`)).toBe(`${FSI}a${RLO}b${PDI}`)
    expect(`${isolate(`Eve${RLO}`)} is typing…`).toBe(`${FSI}Eve${RLO}${PDI} is typing…`)
  })
})

describe('file names show their real type', () => {
  it('finds the last extension, lower-cased', () => {
    expect(extensionOf('a.pdf.EXE')).toBe('exe')
    expect(extensionOf('archive.tar.gz')).toBe('gz')
    expect(extensionOf('README')).toBeNull()
    expect(extensionOf('.bashrc')).toBeNull()
    expect(extensionOf('notes.')).toBeNull()
  })

  it('takes the type from the content type and keeps an agreeing name as it is', () => {
    expect(describeFile({ name: 'Plan.PDF', contentType: 'application/pdf' })).toEqual({
      name: 'Plan.PDF',
      type: 'PDF',
      extension: 'pdf',
      claimed: null,
      downloadName: 'Plan.PDF',
    })
    expect(describeFile({ name: 'photo.jpeg', contentType: 'image/jpeg' })).toMatchObject({ type: 'JPG', claimed: null, downloadName: 'photo.jpeg' })
    expect(describeFile({ name: 'backup.tar.gz', contentType: 'application/gzip' })).toMatchObject({ type: 'GZ', claimed: null })
  })

  it('shows and saves a disguised file with its real extension', () => {
    expect(describeFile({ name: `invoice_${RLO}fdp.exe`, contentType: 'application/pdf' })).toEqual({
      name: 'invoice_fdp.exe',
      type: 'PDF',
      extension: 'pdf',
      claimed: 'exe',
      downloadName: 'invoice_fdp.exe.pdf',
    })
    // Text is never saved under an extension that something would run.
    expect(describeFile({ name: 'notes.html', contentType: 'text/plain' })).toMatchObject({ type: 'TXT', claimed: 'html', downloadName: 'notes.html.txt' })
    // No extension: nothing is claimed, the download gets the real one.
    expect(describeFile({ name: 'README', contentType: 'text/plain' })).toMatchObject({ claimed: null, downloadName: 'README.txt' })
  })

  it('never shows an empty name, and claims no type for an unknown content type', () => {
    expect(describeFile({ name: `${RLO}\u200B`, contentType: 'application/pdf' })).toMatchObject({ name: 'file', downloadName: 'file.pdf' })
    expect(describeFile({ name: 'x.bin', contentType: 'application/octet-stream' })).toEqual({
      name: 'x.bin',
      type: null,
      extension: null,
      claimed: null,
      downloadName: 'x.bin',
    })
  })
})

/**
 * UTF-8 bytes to text, a chunk at a time, refusing bytes that are not UTF-8. A lenient decoder
 * turns them into U+FFFD, and a file saved as Latin-1 or Windows-1252 would be loaded with its
 * accented letters replaced, without a word.
 *
 * Each chunk is decoded up to its last line feed: a line feed byte never occurs inside a
 * multi-byte character, so that text is whole; the bytes after it wait for the next chunk.
 */
import { isUtf8 } from "node:buffer"

const lineFeed = 0x0a
const replacementCharacter = "\uFFFD"

/** Where the first line (LF-separated) of `bytes` that is not UTF-8 starts, or -1. */
export const firstInvalidLineStart = (bytes: Buffer): number => {
  for (let start = 0; start < bytes.length; ) {
    const newline = bytes.indexOf(lineFeed, start)
    const end = newline === -1 ? bytes.length : newline
    if (!isUtf8(bytes.subarray(start, end))) return start
    start = end + 1
  }
  return -1
}

export class Utf8Text {
  private pending: Array<Buffer> = []

  /**
   * Set once bytes that are not UTF-8 were met: the text returned stops just before the line
   * holding them (after a line feed), and nothing more is returned. The reader names that line.
   */
  invalid = false

  /** The text of the lines `bytes` completes, each with its line feed. */
  write(bytes: Uint8Array): string {
    if (this.invalid) return ""
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const lastLineFeed = buffer.lastIndexOf(lineFeed)
    if (lastLineFeed === -1) {
      if (buffer.length > 0) this.pending.push(buffer)
      return ""
    }
    const lines = buffer.subarray(0, lastLineFeed + 1)
    const whole = this.pending.length === 0 ? lines : Buffer.concat([...this.pending, lines])
    this.pending = lastLineFeed + 1 < buffer.length ? [buffer.subarray(lastLineFeed + 1)] : []
    return this.decode(whole)
  }

  /** The text after the last line feed, once every byte was written. */
  end(): string {
    const rest = this.pending.length === 1 && this.pending[0] !== undefined ? this.pending[0] : Buffer.concat(this.pending)
    this.pending = []
    return this.invalid ? "" : this.decode(rest)
  }

  /** Only text holding U+FFFD has its bytes checked: valid UTF-8 may spell that character too. */
  private decode(bytes: Buffer): string {
    const text = bytes.toString("utf8")
    if (!text.includes(replacementCharacter)) return text
    const invalidAt = firstInvalidLineStart(bytes)
    if (invalidAt === -1) return text
    this.invalid = true
    this.pending = []
    return bytes.subarray(0, invalidAt).toString("utf8")
  }
}

/** What is wrong with a line holding bytes that are not UTF-8, as a reader's error says it. */
export const invalidLineDetail = "its bytes are not UTF-8 text (a file saved as Latin-1 or Windows-1252? save it as UTF-8)"

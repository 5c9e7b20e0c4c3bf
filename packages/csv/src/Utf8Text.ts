/**
 * UTF-8 bytes to text, a chunk at a time, refusing bytes that are not UTF-8. A lenient decoder
 * turns them into U+FFFD, and a file saved as Latin-1 or Windows-1252 would be loaded with its
 * accented letters replaced, without a word.
 *
 * Each chunk is decoded up to its last ASCII byte (a byte below 0x80 is always a whole
 * character, whatever the line endings); the bytes after it wait for the next chunk.
 */
import { isUtf8 } from "node:buffer"

const replacementCharacter = "\uFFFD"

/** The number of continuation bytes a lead byte announces, or -1 for a byte that cannot start a character. */
const continuationsAfter = (lead: number): number => (lead < 0x80 ? 0 : lead < 0xc2 ? -1 : lead < 0xe0 ? 1 : lead < 0xf0 ? 2 : lead < 0xf5 ? 3 : -1)

/** Whether `byte` may follow `lead` as its first continuation byte (no overlong forms, surrogates or code points past U+10FFFF). */
const validSecond = (lead: number, byte: number): boolean =>
  lead === 0xe0 ? byte >= 0xa0 && byte <= 0xbf : lead === 0xed ? byte >= 0x80 && byte <= 0x9f : lead === 0xf0 ? byte >= 0x90 && byte <= 0xbf : lead === 0xf4 ? byte >= 0x80 && byte <= 0x8f : byte >= 0x80 && byte <= 0xbf

/** Where the first ill-formed sequence of `bytes` starts (a character cut off at the end is one), or -1 when all is UTF-8. */
export const firstInvalidOffset = (bytes: Uint8Array): number => {
  for (let index = 0; index < bytes.length; ) {
    const lead = bytes[index] ?? 0
    const continuations = continuationsAfter(lead)
    if (continuations === 0) {
      index++
      continue
    }
    if (continuations < 0) return index
    for (let offset = 1; offset <= continuations; offset++) {
      const byte = bytes[index + offset]
      if (byte === undefined) return index
      if (offset === 1 ? !validSecond(lead, byte) : byte < 0x80 || byte > 0xbf) return index
    }
    index += continuations + 1
  }
  return -1
}

export class Utf8Text {
  private pending: Array<Buffer> = []

  /**
   * Set once bytes that are not UTF-8 were met: the text returned stops just before them, and
   * nothing more is returned. The reader names the line (or record) they are in.
   */
  invalid = false

  /** The text of `bytes` (after what waited) up to their last ASCII byte. */
  write(bytes: Uint8Array): string {
    if (this.invalid) return ""
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let cut = buffer.length
    while (cut > 0 && (buffer[cut - 1] ?? 0) >= 0x80) cut--
    if (cut === 0) {
      if (buffer.length > 0) this.pending.push(buffer)
      return ""
    }
    const head = buffer.subarray(0, cut)
    const whole = this.pending.length === 0 ? head : Buffer.concat([...this.pending, head])
    // a copy: the caller's chunk is not kept alive by the few bytes of a character cut in two
    this.pending = cut < buffer.length ? [Buffer.from(buffer.subarray(cut))] : []
    return this.decode(whole)
  }

  /** What is left, once every byte was written. */
  end(): string {
    const rest = this.pending.length === 1 && this.pending[0] !== undefined ? this.pending[0] : Buffer.concat(this.pending)
    this.pending = []
    return this.invalid ? "" : this.decode(rest)
  }

  /** Only text holding U+FFFD has its bytes checked: valid UTF-8 may spell that character too. */
  private decode(bytes: Buffer): string {
    const text = bytes.toString("utf8")
    if (!text.includes(replacementCharacter) || isUtf8(bytes)) return text
    this.invalid = true
    this.pending = []
    return bytes.subarray(0, Math.max(0, firstInvalidOffset(bytes))).toString("utf8")
  }
}

/** What is wrong with a line holding bytes that are not UTF-8, as a reader's error says it. */
export const invalidLineDetail = "its bytes are not UTF-8 text (a file saved as Latin-1 or Windows-1252? save it as UTF-8)"

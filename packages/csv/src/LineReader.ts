/**
 * Lines of UTF-8 text fed chunk by chunk, split anywhere (also inside a character): what JSON
 * lines are read with. A line ends with LF; a CR before it is dropped; the last line needs none;
 * a leading byte order mark is dropped. Bytes that are not UTF-8 stop the reading at their line.
 */
import type { ChunkParser } from "./ChunkedReading.js"
import { invalidLineDetail, Utf8Text } from "./Utf8Text.js"

/** A line whose bytes are not UTF-8 text. */
export class InvalidUtf8 extends Error {
  constructor(
    /** The line, from 1. */
    readonly line: number
  ) {
    super(`line ${line}: ${invalidLineDetail}`)
  }
}

export class LineReader {
  private readonly decoder = new Utf8Text()
  /** The text of the unfinished line, in pieces: joined once it ends (a long line costs linear time). */
  private pending: Array<string> = []
  private started = false
  /** Lines read so far. */
  private count = 0

  /**
   * The lines `bytes` completes, appended to `lines` (returned). At bytes that are not UTF-8 it
   * throws `InvalidUtf8`, and `lines` holds the lines before theirs.
   */
  push(bytes: Uint8Array, lines: Array<string> = []): Array<string> {
    const text = this.text(this.decoder.write(bytes))
    if (text.includes("\n")) {
      const complete = (this.pending.join("") + text).split("\n")
      const rest = complete.pop() ?? ""
      this.pending = rest === "" ? [] : [rest]
      this.add(complete, lines)
    } else if (text !== "") this.pending.push(text)
    return this.failIfInvalid(lines)
  }

  /** The last line, once every byte was pushed (none when the text ended with a line break). */
  end(lines: Array<string> = []): Array<string> {
    const last = this.pending.join("") + this.text(this.decoder.end())
    this.pending = []
    // the decoder stopped inside the last line: it is the one that is not UTF-8
    if (!this.decoder.invalid && last !== "") this.add([last], lines)
    return this.failIfInvalid(lines)
  }

  private add(complete: ReadonlyArray<string>, lines: Array<string>): void {
    for (const line of complete) lines.push(line.endsWith("\r") ? line.slice(0, -1) : line)
    this.count += complete.length
  }

  /** The decoder stopped inside the line after those read: it names it. */
  private failIfInvalid(lines: Array<string>): Array<string> {
    if (this.decoder.invalid) throw new InvalidUtf8(this.count + 1)
    return lines
  }

  /** Decoded text, without the byte order mark the first may start with. */
  private text(decoded: string): string {
    if (this.started || decoded === "") return decoded
    this.started = true
    return decoded.startsWith("\ufeff") ? decoded.slice(1) : decoded
  }
}

/**
 * A parser of the non-blank lines (blank: only whitespace): `decode` gets each with its line
 * number (from 1, blank lines counted) and may throw to stop the reading; the lines decoded
 * before are in the array given to `push` or `end` (see `ChunkedReading.ChunkParser`).
 */
export const nonBlank = <A>(decode: (line: string, lineNumber: number) => A): ChunkParser<A> => {
  const reader = new LineReader()
  let lineNumber = 0
  const decodeAll = (read: (lines: Array<string>) => unknown, decoded: Array<A>) => {
    const lines: Array<string> = []
    try {
      read(lines)
    } finally {
      // the lines before bytes that are not UTF-8 are decoded; an error of theirs comes first
      for (const line of lines) {
        lineNumber++
        if (line.trim() !== "") decoded.push(decode(line, lineNumber))
      }
    }
    return decoded
  }
  return {
    push: (bytes, decoded = []) => decodeAll((lines) => reader.push(bytes, lines), decoded),
    end: (decoded = []) => decodeAll((lines) => reader.end(lines), decoded)
  }
}

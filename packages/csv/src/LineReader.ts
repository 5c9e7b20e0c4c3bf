/**
 * Lines of UTF-8 text fed chunk by chunk, split anywhere (also inside a character): what JSON
 * lines are read with. A line ends with LF; a CR before it is dropped; the last line needs none;
 * a leading byte order mark is dropped.
 */
import { StringDecoder } from "node:string_decoder"
import type { ChunkParser } from "./ChunkedReading.js"

export class LineReader {
  private readonly decoder = new StringDecoder("utf8")
  /** The text of the unfinished line, in pieces: joined once it ends (a long line costs linear time). */
  private pending: Array<string> = []
  private started = false

  /** The lines `bytes` complete. */
  push(bytes: Uint8Array): Array<string> {
    const text = this.text(this.decoder.write(bytes))
    if (!text.includes("\n")) {
      if (text !== "") this.pending.push(text)
      return []
    }
    const lines = (this.pending.join("") + text).split("\n")
    const rest = lines.pop() ?? ""
    this.pending = rest === "" ? [] : [rest]
    return lines.map(withoutCarriageReturn)
  }

  /** The last line, once every byte was pushed (none when the text ended with a line break). */
  end(): Array<string> {
    const last = this.pending.join("") + this.text(this.decoder.end())
    this.pending = []
    return last === "" ? [] : [withoutCarriageReturn(last)]
  }

  /** Decoded text, without the byte order mark the first may start with. */
  private text(decoded: string): string {
    if (this.started || decoded === "") return decoded
    this.started = true
    return decoded.startsWith("\ufeff") ? decoded.slice(1) : decoded
  }
}

const withoutCarriageReturn = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line)

/**
 * A parser of the non-blank lines (blank: only whitespace): `decode` gets each with its line
 * number (from 1, blank lines counted) and may throw to stop the reading; the lines decoded
 * before are in the array given to `push` or `end` (see `ChunkedReading.ChunkParser`).
 */
export const nonBlank = <A>(decode: (line: string, lineNumber: number) => A): ChunkParser<A> => {
  const reader = new LineReader()
  let lineNumber = 0
  const decodeAll = (lines: ReadonlyArray<string>, decoded: Array<A>) => {
    for (const line of lines) {
      lineNumber++
      if (line.trim() !== "") decoded.push(decode(line, lineNumber))
    }
    return decoded
  }
  return { push: (bytes, decoded = []) => decodeAll(reader.push(bytes), decoded), end: (decoded = []) => decodeAll(reader.end(), decoded) }
}

/**
 * Lines of UTF-8 text fed chunk by chunk, split anywhere (also inside a character): what JSON
 * lines are read with. A line ends with LF; a CR before it is dropped; the last line needs none.
 */
import { StringDecoder } from "node:string_decoder"
import type { ChunkParser } from "./ChunkedReading.js"

export class LineReader {
  private readonly decoder = new StringDecoder("utf8")
  private rest = ""

  /** The lines `bytes` complete. */
  push(bytes: Uint8Array): Array<string> {
    const lines = (this.rest + this.decoder.write(bytes)).split("\n")
    this.rest = lines.pop() ?? ""
    return lines.map(withoutCarriageReturn)
  }

  /** The last line, once every byte was pushed (none when the text ended with a line break). */
  end(): Array<string> {
    const last = this.rest + this.decoder.end()
    this.rest = ""
    return last === "" ? [] : [withoutCarriageReturn(last)]
  }
}

const withoutCarriageReturn = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line)

/**
 * A parser of the non-blank lines (blank: only whitespace): `decode` gets each with its line
 * number (from 1, blank lines counted) and may throw to stop the reading.
 */
export const nonBlank = <A>(decode: (line: string, lineNumber: number) => A): ChunkParser<A> => {
  const reader = new LineReader()
  let lineNumber = 0
  const decodeAll = (lines: ReadonlyArray<string>) => {
    const decoded: Array<A> = []
    for (const line of lines) {
      lineNumber++
      if (line.trim() !== "") decoded.push(decode(line, lineNumber))
    }
    return decoded
  }
  return { push: (bytes) => decodeAll(reader.push(bytes)), end: () => decodeAll(reader.end()) }
}

/**
 * Lines of UTF-8 text fed chunk by chunk, split anywhere (also inside a character): what JSON
 * lines are read with. A line ends with LF; a CR before it is dropped; the last line needs none.
 */
import { StringDecoder } from "node:string_decoder"

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

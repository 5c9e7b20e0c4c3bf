/**
 * A small, fast CSV reader and writer with the Bulk API's rules: RFC 4180 quoting, LF or CRLF
 * line endings, any one-character delimiter, values never trimmed.
 */
import { isAscii } from "node:buffer"

const quoteCode = 34
const lineFeed = 10
const carriageReturn = 13

/** What `nextRow` found. */
type RowKind = 0 | 1 | 2
const rowNone = 0
const rowPlain = 1
const rowQuoted = 2

/** One parsed row: its values and where its bytes lie in the input (line terminator excluded). */
export interface Row {
  readonly values: Array<string>
  readonly start: number
  readonly end: number
}

/**
 * Reads rows one at a time from a whole CSV, kept as the bytes it came in; blank lines are skipped.
 * Positions are byte offsets. Only a row's own bytes are decoded, as it is read: quotes, the
 * delimiter, CR and LF are ASCII, which never occurs inside a multi-byte UTF-8 character.
 */
export class Reader {
  readonly bytes: Buffer
  /** Whether every byte is ASCII: then a byte is a character and decoding is a copy. */
  readonly ascii: boolean
  private readonly delimiterCode: number
  private position = 0
  private nextQuote: number
  /** `true` when rows must end in CRLF, `false` in LF, `undefined` either (no check). */
  private readonly crlf: boolean | undefined
  /**
   * Set once a row read so far ended (outside quotes) with a terminator other than the declared
   * `lineEnding`; the last row may end without one. Checked only at row ends: no extra pass.
   */
  lineEndingInvalid = false

  constructor(
    input: Uint8Array | string,
    readonly delimiter: string,
    lineEnding?: "LF" | "CRLF"
  ) {
    this.bytes = typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    this.ascii = isAscii(this.bytes)
    this.delimiterCode = delimiter.charCodeAt(0)
    this.nextQuote = this.bytes.indexOf(quoteCode)
    this.crlf = lineEnding === undefined ? undefined : lineEnding === "CRLF"
  }

  /** Where the row `nextValues` returned lies in the input (line terminator excluded). */
  rowStart = 0
  rowEnd = 0

  /** The text of bytes `start` to `end`. */
  text(start: number, end: number): string {
    return this.bytes.toString(this.ascii ? "latin1" : "utf8", start, end)
  }

  /** The next row, or `undefined` at the end of the input. */
  next(): Row | undefined {
    const values = this.nextValues()
    return values === undefined ? undefined : { values, start: this.rowStart, end: this.rowEnd }
  }

  /** The next row's values (its span in `rowStart` / `rowEnd`), or `undefined` at the end. */
  nextValues(): Array<string> | undefined {
    const found = this.nextRow()
    if (found === rowNone) return undefined
    return found === rowQuoted ? this.heldValues : this.text(this.rowStart, this.rowEnd).split(this.delimiter)
  }

  /** The values of the last row read whole: a quoted one, or one `nextCells` gave 0 for. */
  heldValues: Array<string> = []

  /**
   * The next row as the byte offsets of its cells, written from `bounds[offset]` on: cell `i`
   * starts at `bounds[offset + i]` and ends one byte before `bounds[offset + i + 1]` (the
   * delimiter, or one past the row). Returns the number of cells; -1 at the end of the input; 0
   * for a row holding a quote or more than `capacity` cells, whose values are then in `heldValues`.
   */
  nextCells(bounds: Int32Array, offset: number, capacity: number): number {
    const found = this.nextRow()
    if (found === rowNone) return -1
    if (found === rowQuoted) return 0
    const bytes = this.bytes
    const delimiterCode = this.delimiterCode
    const end = this.rowEnd
    let count = 0
    bounds[offset] = this.rowStart
    for (let index = this.rowStart; index < end; index++) {
      if (bytes[index] !== delimiterCode) continue
      if (++count === capacity) {
        this.heldValues = this.text(this.rowStart, end).split(this.delimiter)
        return 0
      }
      bounds[offset + count] = index + 1
    }
    bounds[offset + count + 1] = end + 1
    return count + 1
  }

  /**
   * Moves to the next row that is not blank: `rowPlain` (its span in `rowStart` / `rowEnd`),
   * `rowQuoted` (read whole into `heldValues`), or `rowNone` at the end of the input.
   */
  private nextRow(): RowKind {
    const bytes = this.bytes
    const length = bytes.length
    while (this.position < length) {
      const start = this.position
      let newline = bytes.indexOf(lineFeed, start)
      if (newline === -1) newline = length
      if (this.nextQuote !== -1 && this.nextQuote < start) this.nextQuote = bytes.indexOf(quoteCode, start)
      if (this.nextQuote === -1 || this.nextQuote >= newline) {
        let end = newline
        if (end > start && bytes[end - 1] === carriageReturn) end--
        if (this.crlf !== undefined && newline < length && (end !== newline) !== this.crlf) this.lineEndingInvalid = true
        this.position = newline + 1
        if (end === start) continue
        this.rowStart = start
        this.rowEnd = end
        return rowPlain
      }
      this.heldValues = this.quotedRow(start)
      return rowQuoted
    }
    return rowNone
  }

  private quotedRow(start: number): Array<string> {
    const bytes = this.bytes
    const length = bytes.length
    const delimiterCode = this.delimiterCode
    const values: Array<string> = []
    let index = start
    let value = ""
    let fieldStart = index
    let quoted = false
    for (;;) {
      if (index >= length) {
        values.push(value + this.text(fieldStart, index))
        this.position = index
        this.rowStart = start
        this.rowEnd = index
        return values
      }
      const code = bytes[index]
      if (quoted) {
        if (code === quoteCode) {
          if (bytes[index + 1] === quoteCode) {
            value += this.text(fieldStart, index + 1)
            index += 2
            fieldStart = index
            continue
          }
          value += this.text(fieldStart, index)
          quoted = false
          index++
          fieldStart = index
          continue
        }
        index++
        continue
      }
      if (code === quoteCode && index === fieldStart && value === "") {
        quoted = true
        index++
        fieldStart = index
        continue
      }
      if (code === delimiterCode) {
        values.push(value + this.text(fieldStart, index))
        value = ""
        index++
        fieldStart = index
        continue
      }
      if (code === lineFeed || (code === carriageReturn && bytes[index + 1] === lineFeed)) {
        values.push(value + this.text(fieldStart, index))
        if (this.crlf !== undefined && (code === carriageReturn) !== this.crlf) this.lineEndingInvalid = true
        this.position = index + (code === lineFeed ? 1 : 2)
        this.rowStart = start
        this.rowEnd = index
        return values
      }
      index++
    }
  }
}

const needsQuotes = /[",\r\n]/

/** One value as a CSV cell: quoted when it holds a comma, a quote, CR or LF. */
export const cell = (value: string): string =>
  needsQuotes.test(value) ? `"${value.replace(/"/g, '""')}"` : value

/** One value, always quoted (the Bulk API quotes its own `sf__` columns). */
export const quoted = (value: string): string => `"${value.replace(/"/g, '""')}"`

/** Column delimiters of Bulk API 2.0 jobs, by their JobInfo name. */
export const delimiters: Readonly<Record<string, string>> = {
  COMMA: ",",
  TAB: "\t",
  PIPE: "|",
  SEMICOLON: ";",
  CARET: "^",
  BACKQUOTE: "`"
}

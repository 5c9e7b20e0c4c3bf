/**
 * Reading CSV as Salesforce writes it (RFC 4180, UTF-8), fed chunk by chunk, split anywhere:
 * quoted fields may hold commas, doubled quotes and line breaks; rows end with LF or CRLF (and,
 * for `RowReader`, a bare CR); blank lines are skipped; a leading byte order mark is ignored.
 *
 * `RowReader` turns rows into objects keyed by the header; `ColumnCounter` only counts the rows
 * where one column holds a value. Both are plain loops over the text: a general CSV library
 * spends ~7 µs a row on result sets (and far more on quote-heavy fields), these ~1.
 */
import { invalidLineDetail, Utf8Text } from "./Utf8Text.js"

const quote = 0x22
const comma = 0x2c
const lineFeed = 0x0a
const carriageReturn = 0x0d
const byteOrderMark = "\ufeff"

/** A result CSV that cannot be read: where, and why. */
export class MalformedCsv extends Error {
  constructor(
    /** The line the record starts on (from 1), when known (`ColumnCounter` does not count lines). */
    readonly line: number | undefined,
    /** The record (the header is record 1). */
    readonly record: number,
    detail: string
  ) {
    super(`malformed CSV ${line === undefined ? "in" : `at line ${line},`} record ${record} (the header is record 1): ${detail}`)
  }
}

/** Line breaks in `text` from `from` up to (not including) `to`: LF, CRLF, and a CR alone (old Mac files). */
const lineBreaksBetween = (text: string, from: number, to: number): number => {
  let count = 0
  for (let at = text.indexOf("\n", from); at !== -1 && at < to; at = text.indexOf("\n", at + 1)) count++
  for (let at = text.indexOf("\r", from); at !== -1 && at < to; at = text.indexOf("\r", at + 1)) {
    if (text.charCodeAt(at + 1) !== lineFeed) count++
  }
  return count
}

/** A row object for `header`: own properties only, even for a column named `__proto__`. */
const rowOf = (header: ReadonlyArray<string>, values: ReadonlyArray<string>, ownProto: boolean): CsvRow => {
  const row: CsvRow = {}
  if (ownProto) {
    for (let index = 0; index < header.length; index++) {
      Object.defineProperty(row, header[index] ?? "", { value: values[index] ?? "", enumerable: true, writable: true, configurable: true })
    }
    return row
  }
  for (let index = 0; index < header.length; index++) row[header[index] ?? ""] = values[index] ?? ""
  return row
}

/** One row: column name → value. */
export type CsvRow = Record<string, string>

/** Where a row ended, or that the text ends inside it, or that a closing quote is followed by something else. */
const incomplete = -1
const notAfterClosingQuote = -2

/** After the CR at `at`: a CRLF or a bare CR ends the row (`incomplete` while the next character is unknown). */
const lineEnd = (text: string, at: number): number => {
  if (at + 1 >= text.length) return incomplete
  return text.charCodeAt(at + 1) === lineFeed ? at + 2 : at + 1
}

/** Rows keyed by the header, from chunks of UTF-8 bytes. */
export class RowReader {
  private readonly decoder = new Utf8Text()
  private rest = ""
  private header: ReadonlyArray<string> | undefined
  /** The header names a column `__proto__`, which plain assignment would not make a property. */
  private headerHasProto = false
  private started = false
  /** Records read so far, the header included. */
  private records = 0
  /** The line `rest` starts on. */
  private line = 1

  /**
   * Length of `rest` when it was last read and found to hold no complete row. A row spanning many
   * chunks (long text) is read again only once the text has doubled: linear, not quadratic.
   */
  private unfinished = 0

  /** The header's column names, once the header row has been read. */
  get columns(): ReadonlyArray<string> | undefined {
    return this.header
  }

  /**
   * The rows completed by `bytes`, appended to `rows` (returned). On malformed CSV it throws
   * `MalformedCsv`, and `rows` holds the rows before the malformed one.
   */
  push(bytes: Uint8Array, rows: Array<CsvRow> = []): Array<CsvRow> {
    const text = this.rest + this.decoder.write(bytes)
    if (text.length < 2 * this.unfinished && !this.decoder.invalid) {
      this.rest = text
      return rows
    }
    return this.read(text, false, rows)
  }

  /** The last rows, once every byte was pushed, appended to `rows` as by `push`; fails on an unterminated quoted field. */
  end(rows: Array<CsvRow> = []): Array<CsvRow> {
    const text = this.rest + this.decoder.end()
    // throws at the line that is not UTF-8, once the rows before it are read
    if (this.decoder.invalid) return this.read(text, false, rows)
    if (text === "") return rows
    return this.read(`${text}\n`, true, rows)
  }

  private read(input: string, final: boolean, rows: Array<CsvRow>): Array<CsvRow> {
    let text = input
    if (!this.started && text.length > 0) {
      this.started = true
      if (text.startsWith(byteOrderMark)) text = text.slice(1)
    }
    let position = 0
    const values: Array<string> = []
    const malformed = (rowStart: number, record: number, detail: string) =>
      new MalformedCsv(this.line + lineBreaksBetween(text, 0, rowStart), record, detail)
    while (position < text.length) {
      const code = text.charCodeAt(position)
      if (code === lineFeed) {
        position++
        continue
      }
      if (code === carriageReturn) {
        if (position + 1 >= text.length) break
        position += text.charCodeAt(position + 1) === lineFeed ? 2 : 1
        continue
      }
      values.length = 0
      const end = this.readRow(text, position, values)
      if (end === incomplete) break
      if (end < 0) throw malformed(position, this.records + 1, "a closing quote is not followed by a comma or a line break")
      this.records++
      const rowStart = position
      position = end
      const header = this.header
      if (header === undefined) {
        // unnamed columns (a spreadsheet's empty ones) may repeat: nothing can read them by name
        const repeated = values.findIndex((name, index) => name !== "" && values.indexOf(name) !== index)
        if (repeated !== -1) {
          // each row becomes an object keyed by the header: a repeated name would keep only its last cell
          throw malformed(rowStart, 1, `the header names column ${JSON.stringify(values[repeated])} twice (columns ${values.indexOf(values[repeated] ?? "") + 1} and ${repeated + 1})`)
        }
        this.header = [...values]
        this.headerHasProto = values.includes("__proto__")
        continue
      }
      if (values.length !== header.length) {
        throw malformed(rowStart, this.records, `${values.length} fields where the header has ${header.length}`)
      }
      rows.push(rowOf(header, values, this.headerHasProto))
    }
    if (final && position < text.length) throw malformed(position, this.records + 1, "a quoted field is never closed")
    this.line += lineBreaksBetween(text, 0, position)
    this.rest = text.slice(position)
    this.unfinished = this.rest.length
    // the decoder stopped at bytes that are not UTF-8, inside the record after those read
    if (this.decoder.invalid) throw new MalformedCsv(this.line, this.records + 1, invalidLineDetail)
    return rows
  }

  /** Reads one row's values from `start`; the index after its line break, `incomplete` or `notAfterClosingQuote`. */
  private readRow(text: string, start: number, values: Array<string>): number {
    const length = text.length
    let position = start
    for (;;) {
      if (text.charCodeAt(position) === quote) {
        let value = ""
        let segment = position + 1
        for (;;) {
          const closing = text.indexOf('"', segment)
          if (closing === -1 || closing + 1 >= length) return incomplete
          if (text.charCodeAt(closing + 1) === quote) {
            value += text.slice(segment, closing + 1)
            segment = closing + 2
            continue
          }
          value += text.slice(segment, closing)
          position = closing + 1
          break
        }
        values.push(value)
        const next = text.charCodeAt(position)
        if (next === comma) {
          position++
          continue
        }
        if (next === lineFeed) return position + 1
        if (next === carriageReturn) return lineEnd(text, position)
        return notAfterClosingQuote
      }
      let scan = position
      let code = 0
      while (scan < length) {
        code = text.charCodeAt(scan)
        if (code === comma || code === lineFeed || code === carriageReturn) break
        scan++
      }
      if (scan >= length) return incomplete
      values.push(text.slice(position, scan))
      if (code === comma) {
        position = scan + 1
        continue
      }
      return code === lineFeed ? scan + 1 : lineEnd(text, scan)
    }
  }
}

const byteOrderMarkBytes = [0xef, 0xbb, 0xbf] as const

/**
 * An RFC 4180 scanner that keeps one column's value per row and counts the rows where it
 * equals a value; past that column it jumps from quote to quote and line break to line break.
 * Quoted fields may hold commas, doubled quotes and line breaks; CRLF and LF end rows; blank
 * lines are skipped; a leading byte order mark is ignored.
 */
export class ColumnCounter {
  private readonly wanted: Buffer
  /** Which field of the row is read, and whether the header has been read. */
  private field = 0
  private inHeader = true
  private target = -1
  private quoted = false
  /** In a quoted field, the last byte was a quote: the field ends, or it was a doubled quote. */
  private quoteSeen = false
  /** Bytes of the current field, kept only for header fields and the target column. */
  private kept: Array<number> = []
  private fieldHasBytes = false
  private rowHasBytes = false
  private bomChecked = 0
  private count = 0
  /** Rows ended so far, the header included. */
  private records = 0

  constructor(
    private readonly column: string,
    value: string
  ) {
    this.wanted = Buffer.from(value, "utf8")
  }

  feed(chunk: Uint8Array): void {
    let index = 0
    while (this.bomChecked < byteOrderMarkBytes.length && index < chunk.length) {
      if (chunk[index] !== byteOrderMarkBytes[this.bomChecked]) {
        this.bomChecked = byteOrderMarkBytes.length
        break
      }
      this.bomChecked++
      index++
    }
    for (; index < chunk.length; index++) {
      if (!this.inHeader && this.field > this.target) {
        // past the counted column only the row's end matters: jump to the next quote or line feed
        if (this.quoted && !this.quoteSeen) {
          const closing = chunk.indexOf(quote, index)
          if (closing === -1) break
          index = closing
        } else if (!this.quoted) {
          const lineEnd = chunk.indexOf(lineFeed, index)
          const opening = chunk.indexOf(quote, index)
          if (opening !== -1 && (lineEnd === -1 || opening < lineEnd)) {
            this.quoted = true
            index = opening
            continue
          }
          if (lineEnd === -1) break
          index = lineEnd
        }
      }
      const byte = chunk[index] ?? 0
      if (this.quoted) {
        if (this.quoteSeen) {
          this.quoteSeen = false
          if (byte === quote) {
            this.keep(byte)
            continue
          }
          this.quoted = false
        } else {
          if (byte === quote) this.quoteSeen = true
          else this.keep(byte)
          continue
        }
      }
      if (byte === comma) {
        this.endField()
        this.field++
        this.rowHasBytes = true
      } else if (byte === lineFeed) {
        this.endRow()
      } else if (byte === quote && !this.fieldHasBytes) {
        this.quoted = true
        this.fieldHasBytes = true
        this.rowHasBytes = true
      } else if (byte !== carriageReturn) {
        this.keep(byte)
        this.rowHasBytes = true
      }
    }
  }

  /** The count, once every byte was fed (a last row without a line break counts); fails on an unclosed quote. */
  finish(): number {
    if (this.quoted && !this.quoteSeen) throw new MalformedCsv(undefined, this.records + 1, "a quoted field is never closed")
    if (this.quoteSeen) this.quoted = false
    this.endRow()
    return this.count
  }

  private keep(byte: number): void {
    if (this.inHeader || this.field === this.target) this.kept.push(byte)
    this.fieldHasBytes = true
    this.rowHasBytes = true
  }

  private endField(): void {
    if (this.inHeader) {
      if (this.target === -1 && Buffer.from(this.kept).toString("utf8") === this.column) this.target = this.field
    } else if (this.field === this.target && this.kept.length === this.wanted.length && this.wanted.every((byte, at) => this.kept[at] === byte)) {
      this.count++
    }
    this.kept = []
    this.fieldHasBytes = false
  }

  private endRow(): void {
    if (this.rowHasBytes) {
      this.endField()
      this.records++
      if (this.inHeader) this.inHeader = false
    }
    this.kept = []
    this.fieldHasBytes = false
    this.field = 0
    this.quoted = false
    this.quoteSeen = false
    this.rowHasBytes = false
  }
}

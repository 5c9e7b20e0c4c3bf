/**
 * A job's result CSV as a stream of rows, parsed as it arrives (gzip or not), so a
 * million-row result never sits in memory. Rows are handed on in batches of what the
 * parser has ready; the parser's buffer limit pushes back on the download.
 */
import { parse as csvParse } from "csv-parse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { Readable, type Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import { createGunzip } from "node:zlib"

/** One result row: column name → value (`sf__Id`, `sf__Created` / `sf__Error`, then the columns sent). */
export type ResultRow = Readonly<Record<string, string>>

/** Most rows handed on at once. */
const maxRowsPerChunk = 4096

const isResultRow = (value: unknown): value is ResultRow => typeof value === "object" && value !== null

/** Pulls whatever rows the parser has ready, waiting for more when it has none. */
const readRows = <E2>(
  parser: Transform,
  status: { failure: unknown; ended: boolean; failed: boolean },
  onError: (cause: unknown) => E2
): Effect.Effect<Chunk.Chunk<ResultRow>, Option.Option<E2>> =>
  Effect.async<Chunk.Chunk<ResultRow>, Option.Option<E2>>((resume) => {
    const attempt = (): boolean => {
      if (status.failed) {
        resume(Effect.fail(Option.some(onError(status.failure))))
        return true
      }
      const rows: Array<ResultRow> = []
      for (let value: unknown = parser.read(); value !== null; value = rows.length < maxRowsPerChunk ? parser.read() : null) {
        if (isResultRow(value)) rows.push(value)
      }
      if (rows.length > 0) {
        resume(Effect.succeed(Chunk.unsafeFromArray(rows)))
        return true
      }
      if (status.ended) {
        resume(Effect.fail(Option.none()))
        return true
      }
      return false
    }
    if (attempt()) return
    const wake = () => {
      if (attempt()) stopWaiting()
    }
    const stopWaiting = () => {
      parser.off("readable", wake)
      parser.off("end", wake)
      parser.off("error", wake)
    }
    parser.on("readable", wake)
    parser.on("end", wake)
    parser.on("error", wake)
    return Effect.sync(stopWaiting)
  })

/** The first byte of a gzip stream; no CSV starts with this control character. */
const gzipMagic = 0x1f

/**
 * The body as a Node stream of CSV bytes, gunzipped when it is gzip. A gzip body is recognised
 * by its first byte, so it does not matter whether the HTTP client already decoded
 * `Content-Encoding`.
 */
const csvBytes = <E, E2>(body: Stream.Stream<Uint8Array, E>, onError: (cause: unknown) => E2) =>
  Effect.gen(function* () {
    const [first, rest] = yield* Stream.peel(Stream.mapError(body, onError), Sink.head<Uint8Array>())
    const gzip = Option.exists(first, (bytes) => bytes[0] === gzipMagic)
    const whole = Option.match(first, { onNone: () => rest, onSome: (bytes) => Stream.concat(Stream.make(bytes), rest) })
    const source = Readable.fromWeb(yield* Stream.toReadableStreamEffect(whole))
    yield* Effect.addFinalizer(() => Effect.sync(() => source.destroy()))
    return gzip ? [source, createGunzip()] as const : [source] as const
  })

/** Parses CSV bytes (gzip or not) into rows keyed by the header. */
export const parse = <E, E2>(
  body: Stream.Stream<Uint8Array, E>,
  options: { readonly onError: (cause: unknown) => E2 }
): Stream.Stream<ResultRow, E2> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const stages = yield* csvBytes(body, options.onError)
      const parser = csvParse({ columns: true, bom: true, skip_empty_lines: true })
      const status = { failure: undefined as unknown, ended: false, failed: false }
      parser.on("end", () => {
        status.ended = true
      })
      pipeline([...stages, parser]).catch((cause: unknown) => {
        status.failure = cause
        status.failed = true
        parser.emit("error", cause)
      })
      return Stream.repeatEffectChunkOption(readRows(parser, status, options.onError))
    })
  )

/**
 * Counts the rows whose `column` holds exactly `value`, scanning the CSV bytes (gzip or not)
 * without building a row: what counting a million-row result needs, at a fraction of parsing
 * it. A header without the column counts nothing.
 */
export const countMatching = <E, E2>(
  body: Stream.Stream<Uint8Array, E>,
  column: string,
  value: string,
  options: { readonly onError: (cause: unknown) => E2 }
): Effect.Effect<number, E2> =>
  Effect.scoped(
    Effect.gen(function* () {
      const stages = yield* csvBytes(body, options.onError)
      const counter = new ColumnCounter(column, value)
      const count = async (chunks: AsyncIterable<unknown>) => {
        for await (const chunk of chunks) if (chunk instanceof Uint8Array) counter.feed(chunk)
      }
      const [source, gunzip] = stages
      yield* Effect.tryPromise({
        try: () => (gunzip === undefined ? pipeline(source, count) : pipeline(source, gunzip, count)),
        catch: options.onError
      })
      return counter.finish()
    })
  )

const quote = 0x22
const comma = 0x2c
const lineFeed = 0x0a
const carriageReturn = 0x0d
const byteOrderMark = [0xef, 0xbb, 0xbf] as const

/**
 * An RFC 4180 scanner that keeps one column's value per row and counts the rows where it
 * equals a value. Quoted fields may hold commas, doubled quotes and line breaks; CRLF and
 * LF end rows; blank lines are skipped; a leading byte order mark is ignored.
 */
class ColumnCounter {
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

  constructor(
    private readonly column: string,
    value: string
  ) {
    this.wanted = Buffer.from(value, "utf8")
  }

  feed(chunk: Uint8Array): void {
    let index = 0
    while (this.bomChecked < byteOrderMark.length && index < chunk.length) {
      if (chunk[index] !== byteOrderMark[this.bomChecked]) {
        this.bomChecked = byteOrderMark.length
        break
      }
      this.bomChecked++
      index++
    }
    for (; index < chunk.length; index++) {
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

  /** The count, once every byte was fed (a last row without a line break counts). */
  finish(): number {
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

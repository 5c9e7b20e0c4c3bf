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
 * Parses CSV bytes into rows keyed by the header. A gzip body is recognised by its first
 * byte, so it does not matter whether the HTTP client already decoded `Content-Encoding`.
 */
export const parse = <E, E2>(
  body: Stream.Stream<Uint8Array, E>,
  options: { readonly onError: (cause: unknown) => E2 }
): Stream.Stream<ResultRow, E2> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const [first, rest] = yield* Stream.peel(Stream.mapError(body, options.onError), Sink.head<Uint8Array>())
      const gzip = Option.exists(first, (bytes) => bytes[0] === gzipMagic)
      const whole = Option.match(first, { onNone: () => rest, onSome: (bytes) => Stream.concat(Stream.make(bytes), rest) })
      const source = Readable.fromWeb(yield* Stream.toReadableStreamEffect(whole))
      const parser = csvParse({ columns: true, bom: true, skip_empty_lines: true })
      const status = { failure: undefined as unknown, ended: false, failed: false }
      parser.on("end", () => {
        status.ended = true
      })
      const stages = gzip ? [source, createGunzip(), parser] : [source, parser]
      pipeline(stages).catch((cause: unknown) => {
        status.failure = cause
        status.failed = true
        parser.emit("error", cause)
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => source.destroy()))
      return Stream.repeatEffectChunkOption(readRows(parser, status, options.onError))
    })
  )

/**
 * A job's result CSV as a stream of rows, parsed as it arrives (gzip or not), so a
 * million-row result never sits in memory: the download is read a chunk at a time, when the
 * rows of the last chunk have been taken.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as ResultCsv from "./ResultCsv.js"
import { pipeline as streamPipeline, Readable, type Transform } from "node:stream"
import { createGunzip } from "node:zlib"

/** One result row: column name → value (`sf__Id`, `sf__Created` / `sf__Error`, then the columns sent). */
export type ResultRow = Readonly<Record<string, string>>

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

/** The CSV's text bytes, read as they come, gunzipped when the body is gzip. */
const chunksOf = (stages: readonly [Readable] | readonly [Readable, Transform]): AsyncIterable<unknown> => {
  const [source, gunzip] = stages
  if (gunzip === undefined) return source
  return streamPipeline(source, gunzip, () => undefined)
}

/** Parses CSV bytes (gzip or not) into rows keyed by the header. */
export const parse = <E, E2>(
  body: Stream.Stream<Uint8Array, E>,
  options: { readonly onError: (cause: unknown) => E2 }
): Stream.Stream<ResultRow, E2> =>
  Stream.unwrapScoped(
    Effect.map(csvBytes(body, options.onError), (stages) => {
      async function* rowsOf(chunks: AsyncIterable<unknown>): AsyncGenerator<Chunk.Chunk<ResultRow>> {
        const reader = new ResultCsv.RowReader()
        for await (const chunk of chunks) {
          if (!(chunk instanceof Uint8Array)) continue
          const rows = reader.push(chunk)
          if (rows.length > 0) yield Chunk.unsafeFromArray(rows)
        }
        const last = reader.end()
        if (last.length > 0) yield Chunk.unsafeFromArray(last)
      }
      return Stream.flattenChunks(Stream.fromAsyncIterable(rowsOf(chunksOf(stages)), options.onError))
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
      const counter = new ResultCsv.ColumnCounter(column, value)
      yield* Effect.tryPromise({
        try: async () => {
          for await (const chunk of chunksOf(stages)) if (chunk instanceof Uint8Array) counter.feed(chunk)
        },
        catch: options.onError
      })
      return counter.finish()
    })
  )

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
import { ChunkedReading, CsvReader } from "@sfdc-activation/csv"
import { pipeline as streamPipeline, Readable } from "node:stream"
import { createGunzip } from "node:zlib"

/** One result row: column name → value (`sf__Id`, `sf__Created` / `sf__Error`, then the columns sent). */
export type ResultRow = Readonly<Record<string, string>>

/** The first byte of a gzip stream; no CSV starts with this control character. */
const gzipMagic = 0x1f

/** A result body being read as CSV bytes. */
interface CsvBytes<E2> {
  /** The bytes, gunzipped when the body is gzip. */
  readonly chunks: AsyncIterable<unknown>
  /** Stops reading: a read waiting for the body ends at once. */
  readonly stop: () => void
  /** The caller's error for a failed read: the body's own failure as already mapped, or the cause mapped now. */
  readonly failure: (cause: unknown) => E2
}

/**
 * Reads the body as CSV bytes. A gzip body is recognised by its first byte, so it does not
 * matter whether the HTTP client already decoded `Content-Encoding`. Reading stops with the scope.
 */
const csvBytes = <E, E2>(body: Stream.Stream<Uint8Array, E>, onError: (cause: unknown) => E2) =>
  Effect.gen(function* () {
    let bodyFailure: { readonly error: E2 } | undefined
    const mapped = Stream.mapError(
      Stream.filter(body, (bytes) => bytes.length > 0),
      (cause) => {
        const error = onError(cause)
        bodyFailure = { error }
        return error
      }
    )
    const [first, rest] = yield* Stream.peel(mapped, Sink.head<Uint8Array>())
    const gzip = Option.exists(first, (bytes) => bytes[0] === gzipMagic)
    const whole = Option.match(first, { onNone: () => rest, onSome: (bytes) => Stream.concat(Stream.make(bytes), rest) })
    const source = Readable.fromWeb(yield* Stream.toReadableStreamEffect(whole))
    const gunzip = gzip ? createGunzip() : undefined
    const stop = () => {
      source.destroy()
      gunzip?.destroy()
    }
    yield* Effect.addFinalizer(() => Effect.sync(stop))
    const bytes: CsvBytes<E2> = {
      chunks: gunzip === undefined ? source : streamPipeline(source, gunzip, () => undefined),
      stop,
      failure: (cause) => bodyFailure?.error ?? onError(cause)
    }
    return bytes
  })

/** Parses CSV bytes (gzip or not) into rows keyed by the header; stopped early, it stops reading the body first. */
export const parse = <E, E2>(
  body: Stream.Stream<Uint8Array, E>,
  options: { readonly onError: (cause: unknown) => E2 }
): Stream.Stream<ResultRow, E2> =>
  Stream.unwrapScoped(
    Effect.map(csvBytes(body, options.onError), (bytes) =>
      Stream.fromAsyncIterable(ChunkedReading.parse<ResultRow>(bytes.chunks, new CsvReader.RowReader(), bytes.stop), bytes.failure).pipe(
        Stream.mapConcatChunk((rows) => Chunk.unsafeFromArray(rows))
      )
    )
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
      const bytes = yield* csvBytes(body, options.onError)
      const counter = new CsvReader.ColumnCounter(column, value)
      return yield* Effect.tryPromise({
        try: async () => {
          for await (const chunk of bytes.chunks) if (chunk instanceof Uint8Array) counter.feed(chunk)
          return counter.finish()
        },
        catch: bytes.failure
      })
    })
  )

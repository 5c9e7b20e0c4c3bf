/**
 * Reads rejected records back (for replay): lists the objects under a prefix, in S3 or a local
 * directory, and streams their records, gunzipping and parsing CSV or JSONL on the way. Objects
 * are streamed, never held whole in memory. Probe objects and unfinished files are skipped.
 */
import { ChunkedReading, CsvReader, LineReader } from "@sfdc-activation/csv"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Readable, pipeline } from "node:stream"
import { createGunzip } from "node:zlib"
import * as LocalStore from "./LocalStore.js"
import type { ObjectStore } from "./ObjectStore.js"
import * as RejectFormat from "./RejectFormat.js"
import type { RejectedRecord } from "./RejectedRecord.js"
import { RejectSinkError } from "./RejectSinkError.js"
import * as S3Store from "./S3Store.js"

/** Where to read from. `prefix` is a key prefix such as `bucket_path/sync_id/`. */
export type Location =
  | { readonly _tag: "S3"; readonly connection: S3Store.S3Connection; readonly prefix: string }
  | { readonly _tag: "Local"; readonly directory: string; readonly prefix?: string }

const corrupt = (key: string, message: string, cause?: unknown) =>
  new RejectSinkError({ reason: "Corrupt", message, key, ...(cause === undefined ? {} : { cause }) })

const decodeJson = Schema.decodeUnknownEither(RejectFormat.JsonLine)

/** What is wrong, in a line: the first problem and where (the schema's full report would bury it). */
const firstProblem = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (issue === undefined) return error.message
  return issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`
}

/** The records of a CSV object; at a malformed row, the records before it still come, then the error. */
const csvParser = (key: string): ChunkedReading.ChunkParser<RejectedRecord> => {
  let rowNumber = 0
  return ChunkedReading.map(new CsvReader.RowReader(), (row) => {
    rowNumber++
    const decoded = RejectFormat.csvRecordOf(row)
    if (Either.isLeft(decoded)) throw corrupt(key, `Record ${rowNumber + 1} (the header is record 1) is not a rejected record: ${firstProblem(decoded.left)}`)
    return decoded.right
  })
}

const jsonlParser = (key: string): ChunkedReading.ChunkParser<RejectedRecord> =>
  LineReader.nonBlank((line, lineNumber) => {
    const decoded = decodeJson(line)
    if (Either.isLeft(decoded)) throw corrupt(key, `Line ${lineNumber} is not a rejected record: ${firstProblem(decoded.left)}`)
    return decoded.right
  })

/** The records of one stored object. */
export const readObject = (store: ObjectStore, key: string): Stream.Stream<RejectedRecord, RejectSinkError> => {
  const kind = RejectFormat.fromName(key)
  if (kind === undefined) return Stream.fail(corrupt(key, "Not a .csv or .jsonl object"))
  return Stream.suspend(() => {
    const source = Readable.from(Stream.toAsyncIterable(store.read(key)))
    const bytes = kind.compression === "gzip" ? pipeline(source, createGunzip(), () => undefined) : source
    const parser = kind.format === "csv" ? csvParser(key) : jsonlParser(key)
    const stop = () => {
      bytes.destroy()
      source.destroy()
    }
    return Stream.fromAsyncIterable(ChunkedReading.parse(bytes, parser, stop), (cause) =>
      cause instanceof RejectSinkError
        ? cause
        : corrupt(key, cause instanceof CsvReader.MalformedCsv || cause instanceof LineReader.InvalidUtf8 ? cause.message : "Could not decode the object", cause)
    ).pipe(Stream.mapConcatChunk((records) => Chunk.unsafeFromArray(records)))
  })
}

/** An object of rejects (a probe object has no format extension, a part in progress is not listed). */
const isReadable = (key: string) => RejectFormat.fromName(key) !== undefined

/** The records of every object under a prefix of a store, object by object in key order. */
export const readStore = (store: ObjectStore, prefix: string): Stream.Stream<RejectedRecord, RejectSinkError> =>
  store.list(prefix).pipe(
    Stream.filter(isReadable),
    Stream.flatMap((key) => readObject(store, key))
  )

/** What `use` makes of a location's store and key prefix (an S3 client lives as long as the stream). */
const withStore = <A>(
  location: Location,
  use: (store: ObjectStore, prefix: string) => Stream.Stream<A, RejectSinkError>
): Stream.Stream<A, RejectSinkError> => {
  switch (location._tag) {
    case "S3":
      return Stream.unwrapScoped(Effect.map(S3Store.make(location.connection), (store) => use(store, location.prefix)))
    case "Local":
      return use(LocalStore.make(location.directory), location.prefix ?? "")
  }
}

/** Lists and streams the rejected records stored at a location. */
export const read = (location: Location): Stream.Stream<RejectedRecord, RejectSinkError> => withStore(location, readStore)

/** How far a replay got in an object's records of one sync: its first `records`, and a digest of them that tells them edited. */
export const SettledRecords = Schema.Struct({ records: Schema.NonNegativeInt, digest: Schema.String })
export type SettledRecords = typeof SettledRecords.Type

/**
 * What a replay leaves beside each object of rejects it sent again: its run, and when. A replay
 * under way (or one that failed part way) leaves `settled`: per sync, how many of the object's
 * records of that sync, from its first on, it has settled (loaded, or stored again); the next
 * replay sends only the records after them.
 */
export const ReplayMark = Schema.Struct({
  replayRunId: Schema.String,
  replayedAt: Schema.String,
  settled: Schema.optional(Schema.Record({ key: Schema.String, value: SettledRecords }))
})
export type ReplayMark = typeof ReplayMark.Type

const decodeMark = Schema.decodeUnknownEither(Schema.parseJson(ReplayMark))

/** The key of the mark a replay leaves beside the object `key` (not a rejects object: never read as one). */
export const replayMarkKey = (key: string): string => `${key}.replayed.json`

/** An object of rejects, and the mark of the replay that already sent it again, if one did. */
export interface StoredObject {
  readonly key: string
  readonly replayed: ReplayMark | undefined
}

const readMark = (store: ObjectStore, key: string): Effect.Effect<ReplayMark, RejectSinkError> =>
  Effect.flatMap(Stream.runCollect(store.read(key)), (chunks) =>
    Either.match(decodeMark(Buffer.concat(Chunk.toArray(chunks)).toString("utf8")), {
      onLeft: (error) => Effect.fail(corrupt(key, `Not a replay mark: ${firstProblem(error)}`)),
      onRight: Effect.succeed
    })
  )

/** The objects of rejects at a location, in key order, each with its replay mark. */
export const objects = (location: Location): Effect.Effect<ReadonlyArray<StoredObject>, RejectSinkError> =>
  Effect.map(
    Stream.runCollect(
      withStore(location, (store, prefix) =>
        Stream.fromIterableEffect(
          Effect.gen(function* () {
            const keys = Chunk.toArray(yield* Stream.runCollect(store.list(prefix)))
            const marks = new Set(keys.filter((key) => key.endsWith(".replayed.json")))
            const found: Array<StoredObject> = []
            for (const key of keys.filter(isReadable)) {
              found.push({ key, replayed: marks.has(replayMarkKey(key)) ? yield* readMark(store, replayMarkKey(key)) : undefined })
            }
            return found
          })
        )
      )
    ),
    Chunk.toArray
  )

/** The records of some objects of a location, object by object. */
export const readObjects = (location: Location, keys: ReadonlyArray<string>): Stream.Stream<RejectedRecord, RejectSinkError> =>
  withStore(location, (store) => Stream.flatMap(Stream.fromIterable(keys), (key) => readObject(store, key)))

/** Leaves `mark` beside each object: a later replay of the location knows they were sent again. */
export const markReplayed = (location: Location, keys: ReadonlyArray<string>, mark: ReplayMark): Effect.Effect<void, RejectSinkError> =>
  Stream.runDrain(
    withStore(location, (store) =>
      Stream.mapEffect(Stream.fromIterable(keys), (key) => store.begin(replayMarkKey(key), { replace: true }).complete(Buffer.from(`${JSON.stringify(mark)}\n`)))
    )
  )

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
    if (Either.isLeft(decoded)) throw corrupt(key, `Row ${rowNumber} is not a rejected record: ${firstProblem(decoded.left)}`)
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

/** Lists and streams the rejected records stored at a location. */
export const read = (location: Location): Stream.Stream<RejectedRecord, RejectSinkError> => {
  switch (location._tag) {
    case "S3":
      return Stream.unwrapScoped(Effect.map(S3Store.make(location.connection), (store) => readStore(store, location.prefix)))
    case "Local":
      return readStore(LocalStore.make(location.directory), location.prefix ?? "")
  }
}

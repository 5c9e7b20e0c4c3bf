/**
 * Reads rejected records back (for replay): lists the objects under a prefix, in S3 or a local
 * directory, and streams their records, gunzipping and parsing CSV or JSONL on the way. Objects
 * are streamed, never held whole in memory. Probe objects and unfinished files are skipped.
 */
import { parse as parseCsv } from "csv-parse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
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

const fromNode = (key: string, stream: AsyncIterable<unknown>) =>
  Stream.fromAsyncIterable(stream, (cause) =>
    cause instanceof RejectSinkError ? cause : corrupt(key, "Could not decode the object", cause)
  )

const decodeCsv = Schema.decodeUnknown(RejectFormat.CsvRecord)
const decodeJson = Schema.decodeUnknown(RejectFormat.JsonLine)

/** The records of one stored object. */
export const readObject = (store: ObjectStore, key: string): Stream.Stream<RejectedRecord, RejectSinkError> => {
  const kind = RejectFormat.fromName(key)
  if (kind === undefined) return Stream.fail(corrupt(key, "Not a .csv or .jsonl object"))
  const source = (): Readable => Readable.from(Stream.toAsyncIterable(store.read(key)))
  const bytes = (): Readable =>
    kind.compression === "gzip" ? pipeline(source(), createGunzip(), () => undefined) : source()
  if (kind.format === "csv") {
    return Stream.suspend(() =>
      fromNode(key, pipeline(bytes(), parseCsv({ columns: true, bom: true }), () => undefined))
    ).pipe(
      Stream.zipWithIndex,
      Stream.mapEffect(([row, index]) =>
        decodeCsv(row).pipe(
          Effect.mapError((issue) => corrupt(key, `Row ${index + 1} is not a rejected record: ${issue.message}`))
        )
      )
    )
  }
  return Stream.suspend(() => fromNode(key, bytes())).pipe(
    Stream.filterMap((chunk) => (chunk instanceof Uint8Array ? Option.some(chunk) : Option.none())),
    Stream.decodeText(),
    Stream.splitLines,
    Stream.zipWithIndex,
    Stream.filter(([line]) => line.trim() !== ""),
    Stream.mapEffect(([line, index]) =>
      decodeJson(line).pipe(
        Effect.mapError((issue) => corrupt(key, `Line ${index + 1} is not a rejected record: ${issue.message}`))
      )
    )
  )
}

const isReadable = (key: string) =>
  RejectFormat.fromName(key) !== undefined && !key.split("/").includes("_probe")

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

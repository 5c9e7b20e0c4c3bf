/**
 * The dead-letter sink: stores rejected records as CSV or JSONL objects (optionally gzipped)
 * in S3, a local directory, or nowhere (count and log only), in Airbyte's layout.
 *
 * Durability: `write` accepts records (full parts are already uploaded, the rest is buffered);
 * `flush` completes every open object, so when it succeeds every record written before it is
 * durable and readable (S3: the object exists; local: the file is fsynced and renamed into
 * place). Acknowledge records (echo Airbyte states) only after a `flush` that followed their
 * `write` succeeded. A failed `write` or `flush` aborts every open object (no orphan parts) and
 * poisons the sink: every later call fails with reason `Failed`, so records written since the
 * last successful flush are never acknowledged by mistake. Closing the scope flushes on success
 * and aborts on failure or interruption.
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as zlib from "node:zlib"
import * as LocalStore from "./LocalStore.js"
import type { ObjectStore, ObjectUpload } from "./ObjectStore.js"
import type { Compression, Format } from "./RejectFormat.js"
import * as RejectFormat from "./RejectFormat.js"
import * as RejectLayout from "./RejectLayout.js"
import type { RejectedRecord } from "./RejectedRecord.js"
import { RejectSinkError } from "./RejectSinkError.js"
import * as S3Store from "./S3Store.js"

/** Records accepted, by status code, and how many of them are durable. */
export interface RejectCounts {
  readonly written: number
  readonly byStatusCode: Readonly<Record<string, number>>
  readonly durable: number
}

export interface RejectSinkService {
  /** Accepts records; see the module doc for what is durable when. */
  readonly write: (records: ReadonlyArray<RejectedRecord>) => Effect.Effect<void, RejectSinkError>
  /** Completes every open object: everything written so far is durable when it succeeds. */
  readonly flush: Effect.Effect<void, RejectSinkError>
  readonly counts: Effect.Effect<RejectCounts>
}

export class RejectSink extends Context.Tag("@sfdc-activation/rejects-s3/RejectSink")<
  RejectSink,
  RejectSinkService
>() {}

const mebibyte = 1024 * 1024
export const defaultPartSizeBytes = 8 * mebibyte
export const defaultObjectSizeBytes = 256 * mebibyte

/** What and where to write, for the S3 and local layers. */
export interface SinkOptions {
  /** The prefix every key starts with (`bucket_path`). */
  readonly bucketPath: string
  /** Default `csv`. */
  readonly format?: Format
  /** Default `none`. */
  readonly compression?: Compression
  /** The `{sync_id}` of the keys. */
  readonly syncId?: string
  /** Bytes (after compression) uploaded per part; default 8 MiB, at least 5 MiB for S3. */
  readonly partSizeBytes?: number
  /** An object is completed (and the next `part_number` started) once this many bytes, before compression, were written to it; default 256 MiB. */
  readonly objectSizeBytes?: number
  /** Key template; default `RejectLayout.defaultTemplate` (Airbyte's). */
  readonly layout?: string
}

export interface S3Config extends S3Store.S3Connection, SinkOptions {}

export interface LocalConfig extends SinkOptions {
  readonly directory: string
}

interface OpenObject {
  readonly upload: ObjectUpload
  /** Uncompressed bytes not yet packed. */
  pending: Array<Uint8Array>
  /** Lines not yet encoded: encoded at the end of each write, not one by one. */
  pendingText: string
  /** UTF-8 bytes of `pending` and `pendingText`. */
  pendingBytes: number
  packed: Array<Uint8Array>
  packedBytes: number
  writtenBytes: number
  records: number
}

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => Buffer.concat(chunks)

const gzip = (bytes: Uint8Array) =>
  Effect.async<Uint8Array, RejectSinkError>((resume) => {
    zlib.gzip(bytes, (error, result) =>
      resume(
        error === null
          ? Effect.succeed(result)
          : Effect.fail(new RejectSinkError({ reason: "Io", message: "Could not gzip", cause: error }))
      )
    )
  })

const streamKey = (record: RejectedRecord) => `${record.stream.namespace ?? ""}\u0000${record.stream.name}`

const emptyCounts = (): { written: number; byStatusCode: Record<string, number>; durable: number } => ({
  written: 0,
  byStatusCode: {},
  durable: 0
})

/** A sink over any `ObjectStore`; the scope completes or aborts what is open. */
export const make = (
  store: ObjectStore,
  options: SinkOptions
): Effect.Effect<RejectSinkService, RejectSinkError, Scope.Scope> =>
  Effect.gen(function* () {
    const format = options.format ?? "csv"
    const compression = options.compression ?? "none"
    const partSizeBytes = options.partSizeBytes ?? defaultPartSizeBytes
    const objectSizeBytes = options.objectSizeBytes ?? defaultObjectSizeBytes
    if (partSizeBytes < store.minPartBytes || partSizeBytes <= 0) {
      return yield* new RejectSinkError({
        reason: "Config",
        message: `partSizeBytes must be at least ${store.minPartBytes} bytes`
      })
    }
    if (objectSizeBytes <= 0) {
      return yield* new RejectSinkError({ reason: "Config", message: "objectSizeBytes must be positive" })
    }
    const layout = yield* RejectLayout.make(options.layout)
    const formatExtension = RejectFormat.extension(format, compression)
    const header = RejectFormat.header(format)
    const headerBytes = Buffer.byteLength(header, "utf8")
    const line = RejectFormat.line(format)

    const lock = yield* Effect.makeSemaphore(1)
    const open = new Map<string, OpenObject>()
    const nextPartNumber = new Map<string, number>()
    /** Keys given out: a layout without `{stream_name}` or `{namespace}` would give two streams one. */
    const keysUsed = new Set<string>()
    const counts = emptyCounts()
    let failure: RejectSinkError | undefined

    const start = (record: RejectedRecord) =>
      Effect.gen(function* () {
        const stream = streamKey(record)
        const startedAtMillis = yield* Clock.currentTimeMillis
        const keyOf = (partNumber: number) =>
          layout.key({
            bucketPath: options.bucketPath,
            syncId: options.syncId,
            namespace: record.stream.namespace,
            streamName: record.stream.name,
            startedAtMillis,
            partNumber,
            formatExtension
          })
        let partNumber = nextPartNumber.get(stream) ?? 0
        // a key this sink gave out, or one an earlier run stored under (a layout without {timestamp})
        while (keysUsed.has(keyOf(partNumber)) || (yield* store.exists(keyOf(partNumber)))) partNumber++
        nextPartNumber.set(stream, partNumber + 1)
        const key = keyOf(partNumber)
        keysUsed.add(key)
        const object: OpenObject = {
          upload: store.begin(key),
          pending: [],
          pendingText: header,
          pendingBytes: headerBytes,
          packed: [],
          packedBytes: 0,
          writtenBytes: headerBytes,
          records: 0
        }
        open.set(stream, object)
        return object
      })

    /** Lines waiting as text are encoded at the end of each write, or once this long. */
    const maxPendingTextChars = 1024 * 1024

    /** Encodes the lines waiting as text (short-lived strings, one buffer per write). */
    const encodePending = (object: OpenObject) => {
      if (object.pendingText === "") return
      object.pending.push(Buffer.from(object.pendingText, "utf8"))
      object.pendingText = ""
    }

    // Moves pending (uncompressed) bytes to packed: one gzip member per move when gzipped.
    const pack = (object: OpenObject) =>
      Effect.gen(function* () {
        if (object.pendingBytes === 0) return
        encodePending(object)
        const raw = concat(object.pending)
        const packed = compression === "gzip" ? yield* gzip(raw) : raw
        object.pending = []
        object.pendingBytes = 0
        object.packed.push(packed)
        object.packedBytes += packed.byteLength
      })

    const uploadFullParts = (object: OpenObject) =>
      Effect.gen(function* () {
        if (object.pendingBytes >= partSizeBytes) yield* pack(object)
        if (object.packedBytes >= partSizeBytes) {
          yield* object.upload.uploadPart(concat(object.packed))
          object.packed = []
          object.packedBytes = 0
        }
      })

    const complete = (stream: string, object: OpenObject) =>
      Effect.gen(function* () {
        yield* pack(object)
        yield* object.upload.complete(concat(object.packed))
        open.delete(stream)
        counts.durable += object.records
        yield* Effect.logDebug("Rejected records stored").pipe(
          Effect.annotateLogs({ key: object.upload.key, records: object.records })
        )
      })

    const abortAll = Effect.suspend(() => {
      const objects = Array.from(open.values())
      open.clear()
      return Effect.forEach(objects, (object) => object.upload.abort, { discard: true })
    })

    // Runs one operation under the lock; a failure or an interruption aborts what is open and poisons the sink.
    const guarded = <A>(operation: Effect.Effect<A, RejectSinkError>) =>
      lock.withPermits(1)(
        Effect.suspend(() =>
          failure !== undefined
            ? Effect.fail(
                new RejectSinkError({
                  reason: "Failed",
                  message: `The reject sink failed earlier (${failure.reason}: ${failure.message})`,
                  cause: failure
                })
              )
            : operation.pipe(
                Effect.tapError((error) =>
                  Effect.suspend(() => {
                    failure = error
                    return abortAll
                  })
                ),
                // cut short, an object may hold part of what was being written: sent again, it would be cut or doubled
                Effect.onInterrupt(() =>
                  Effect.suspend(() => {
                    failure = new RejectSinkError({ reason: "Failed", message: "A write or flush of rejected records was interrupted part way" })
                    return abortAll
                  })
                )
              )
        )
      )

    /** Adds each record's line to its stream's object; an effect runs only when a part or an object is full. */
    const write = (records: ReadonlyArray<RejectedRecord>) =>
      guarded(
        Effect.gen(function* () {
          for (const record of records) {
            const stream = streamKey(record)
            const object = open.get(stream) ?? (yield* start(record))
            const text = line(record)
            const bytes = Buffer.byteLength(text, "utf8")
            object.pendingText += text
            object.pendingBytes += bytes
            object.writtenBytes += bytes
            object.records += 1
            counts.written += 1
            counts.byStatusCode[record.statusCode] = (counts.byStatusCode[record.statusCode] ?? 0) + 1
            if (object.pendingText.length >= maxPendingTextChars) encodePending(object)
            if (object.writtenBytes >= objectSizeBytes) yield* complete(stream, object)
            else if (object.pendingBytes >= partSizeBytes || object.packedBytes >= partSizeBytes) yield* uploadFullParts(object)
          }
          for (const object of open.values()) encodePending(object)
        })
      )

    const flushOpen = Effect.suspend(() =>
      Effect.forEach(Array.from(open.entries()), ([stream, object]) => complete(stream, object), { discard: true })
    )

    const flush = guarded(flushOpen)

    yield* Effect.addFinalizer((exit) =>
      lock.withPermits(1)(
        Exit.isSuccess(exit) && failure === undefined
          ? flushOpen.pipe(
              Effect.catchAll((error) =>
                Effect.logError("Could not complete rejected-record objects on close").pipe(
                  Effect.annotateLogs({ reason: error.reason, error: error.message }),
                  Effect.zipRight(abortAll)
                )
              )
            )
          : abortAll
      )
    )

    return {
      write,
      flush,
      counts: Effect.sync(() => ({ ...counts, byStatusCode: { ...counts.byStatusCode } }))
    }
  })

/** A sink writing to S3. */
export const makeS3 = (config: S3Config) =>
  Effect.flatMap(S3Store.make(config), (store) => make(store, config))

/** A sink writing under a local directory. */
export const makeLocal = (config: LocalConfig) => make(LocalStore.make(config.directory), config)

/** The non-empty `Id` column of a stored row, in any case. */
const idOf = (row: Readonly<Record<string, string>>): string | undefined => {
  const key = Object.keys(row).find((name) => name.toLowerCase() === "id")
  const id = key === undefined ? undefined : row[key]
  return id === undefined || id === "" ? undefined : id
}

/** Counts and logs rejected records, stores nothing (`storage_type: None`). */
/** Rejected records the none layer logs one by one; past this, each write logs a summary. */
export const noneDetailedLogLimit = 100

export const makeNone: Effect.Effect<RejectSinkService> = Effect.sync(() => {
  const counts = emptyCounts()
  const detailed = (record: RejectedRecord) =>
    Effect.logWarning("Record rejected (not stored: storage type None)").pipe(
      Effect.annotateLogs({
        stream: record.stream.name,
        object: record.object,
        operation: record.operation,
        statusCode: record.statusCode,
        error: record.message,
        ...(record.jobId === undefined ? {} : { jobId: record.jobId }),
        ...(record.sfId === undefined ? {} : { sfId: record.sfId }),
        // the record Id a row names (update, delete), so the record can be found: not a value of the row's data
        ...(record.sfId === undefined && idOf(record.row) !== undefined ? { recordId: idOf(record.row) } : {})
      })
    )
  const write = (records: ReadonlyArray<RejectedRecord>) =>
    Effect.suspend(() => {
      const room = Math.max(0, noneDetailedLogLimit - counts.written)
      const summarised: Record<string, number> = {}
      for (const [index, record] of records.entries()) {
        counts.written += 1
        counts.durable += 1
        counts.byStatusCode[record.statusCode] = (counts.byStatusCode[record.statusCode] ?? 0) + 1
        if (index >= room) summarised[record.statusCode] = (summarised[record.statusCode] ?? 0) + 1
      }
      const rest = Object.entries(summarised)
      const summary =
        rest.length === 0
          ? Effect.void
          : Effect.logWarning(
              `${records.length - room} more record${records.length - room === 1 ? "" : "s"} rejected (not stored: storage type None): ${rest.map(([code, count]) => `${code} ×${count}`).join(", ")}`
            )
      return Effect.zipRight(Effect.forEach(records.slice(0, room), detailed, { discard: true }), summary)
    })
  return {
    write,
    flush: Effect.void,
    counts: Effect.sync(() => ({ ...counts, byStatusCode: { ...counts.byStatusCode } }))
  }
})

export const layerS3 = (config: S3Config): Layer.Layer<RejectSink, RejectSinkError> =>
  Layer.scoped(RejectSink, makeS3(config))

export const layerLocal = (config: LocalConfig): Layer.Layer<RejectSink, RejectSinkError> =>
  Layer.scoped(RejectSink, makeLocal(config))

export const layerNone: Layer.Layer<RejectSink> = Layer.effect(RejectSink, makeNone)

const probeObject = (store: ObjectStore, bucketPath: string) =>
  Effect.gen(function* () {
    const prefix = RejectLayout.sanitizePrefix(bucketPath)
    const key = `${prefix === "" ? "" : `${prefix}/`}_probe/${randomUUID()}`
    yield* store.begin(key).complete(new TextEncoder().encode("sfdc-activation reject sink probe\n"))
    // a refused listing still removes the probe object
    const listed = yield* Stream.runCollect(store.list(key)).pipe(Effect.tapError(() => Effect.ignore(store.remove(key))))
    yield* store.remove(key)
    if (!Chunk.some(listed, (listedKey) => listedKey === key)) {
      return yield* new RejectSinkError({
        reason: "Rejected",
        message: "The probe object was written but not listed",
        key
      })
    }
  })

/**
 * Writes, lists and deletes `{bucketPath}/_probe/<uuid>` (the connector's `check`). Use a
 * `retry` with few retries in `config` so that `check` answers quickly.
 */
export const probe = (config: S3Store.S3Connection & { readonly bucketPath: string }) =>
  Effect.scoped(Effect.flatMap(S3Store.make(config), (store) => probeObject(store, config.bucketPath)))

/** The same probe for a local directory. */
export const probeLocal = (config: { readonly directory: string; readonly bucketPath: string }) =>
  probeObject(LocalStore.make(config.directory), config.bucketPath)

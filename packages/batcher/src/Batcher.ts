/**
 * Splits a stream of encoded CSV rows into Bulk API 2.0 upload bodies: at most `maxBatchBytes`
 * (header included, exact UTF-8 bytes) and optionally `maxBatchRows` rows each, flushed early after
 * `maxBatchAge` on slow streams. A batch past `spillThresholdBytes` is written to a temp file, so
 * memory stays flat whatever the batch size. Every batch carries its lineage (ordinal range and
 * the checkpoints it covers) so the caller can release state exactly.
 *
 * Temp files live in one directory per stream run. A batch's file is removed by its `release`
 * (`use` releases whatever the outcome, also on interruption), and it outlives the stream until
 * then, so batches can still be uploading when the stream ends. A batch not yet handed out is
 * removed when the stream ends, fails or is interrupted; the directory goes with the last file.
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"
import type { FileHandle } from "node:fs/promises"
import { mkdtemp, open, rm } from "node:fs/promises"
import { createReadStream } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { KeySet } from "./KeySet.js"
import * as RowBlock from "./RowBlock.js"

/** One upload per job; 150 MB after base64, so 100 MiB raw. */
export const defaultMaxBatchBytes = 100 * 1024 * 1024
/** Batches above this many bytes go to a temp file; it is also the size of each file write. */
export const defaultSpillThresholdBytes = 1024 * 1024
/**
 * A batch file is read this much at a time. Each read waits for a turn of the event loop, which
 * the encoder holds for a while: 64 KiB reads (Node's default) made a 100 MB upload take 1,600
 * turns and seconds while rows were being encoded.
 */
export const fileReadChunkBytes = 1024 * 1024
/** Input chunks buffered ahead of the batcher (back-pressure beyond that). */
const inputBufferChunks = 4

/**
 * Encoded rows (a `RowBlock`, in input order) or a checkpoint (a source state) in stream order.
 * A row's `key` (its external id or Id) is never repeated within one batch: Salesforce fails
 * every row of a job that names the same record twice, so a repeated key starts a new batch.
 */
export type BatchInput = RowBlock.RowBlock | { readonly _tag: "Checkpoint"; readonly id: string }

/** One encoded row as input (rows produced in bulk go faster as a `RowBlock`). */
export const row = (ordinal: number, encoded: { readonly line: string }, key?: string): BatchInput =>
  RowBlock.single(ordinal, encoded.line, key)

export const checkpoint = (id: string): BatchInput => ({ _tag: "Checkpoint", id })

/** The CSV bytes of a batch (header first). */
export interface BatchBody {
  /** Exact length in bytes. */
  readonly bytes: number
  /** The temp file holding the body, when it spilled to disk. */
  readonly path: Option.Option<string>
  /** The body as a byte stream, read from the temp file in chunks when it spilled. */
  readonly stream: Stream.Stream<Uint8Array, BatcherError>
  /** The body as a Node `Readable` (for an HTTP request body). */
  readonly readable: Effect.Effect<Readable>
}

/** A CSV upload body and its lineage. */
export interface Batch {
  readonly _tag: "Batch"
  readonly rowCount: number
  /** Same as `body.bytes`: header plus rows. */
  readonly bytes: number
  readonly firstOrdinal: number
  readonly lastOrdinal: number
  /** Checkpoints seen after the previous item's last row and up to this batch's last row, in order. */
  readonly checkpoints: ReadonlyArray<string>
  /** The matching keys of its rows (empty when rows carry none). */
  readonly keys: KeySet
  readonly body: BatchBody
  /** Removes the temp file now (idempotent); the stream removes it anyway when it ends. */
  readonly release: Effect.Effect<void>
}

/** A row that cannot fit any batch (header + row > maxBatchBytes): reject it, it was not batched. */
export interface OversizedRow {
  readonly _tag: "OversizedRow"
  readonly ordinal: number
  readonly bytes: number
  readonly reason: string
  /** Checkpoints seen after the previous item's last row and up to this row. */
  readonly checkpoints: ReadonlyArray<string>
}

/** Checkpoints after the last row emitted so far: released once every earlier item is done. */
export interface Checkpoints {
  readonly _tag: "Checkpoints"
  readonly checkpoints: ReadonlyArray<string>
}

export type BatchOutput = Batch | OversizedRow | Checkpoints

export class BatcherError extends Data.TaggedError("BatcherError")<{
  readonly reason: "InvalidOptions" | "TempFileFailed"
  readonly message: string
  readonly cause?: unknown
}> {}

export interface Options {
  /** The CSV header line, with its `\n`. */
  readonly header: string
  /** Default 100 MiB. */
  readonly maxBatchBytes?: number
  readonly maxBatchRows?: number
  /** Flush a partial batch (and pending checkpoints) this long after its first item arrived. */
  readonly maxBatchAge?: Duration.DurationInput
  /** Default 1 MiB. */
  readonly spillThresholdBytes?: number
  /** Parent of the per-run temp directory; default `os.tmpdir()`. */
  readonly tempDir?: string
}

/** A pending batch reached `maxBatchAge`, unless it was flushed since (`flushes` moved on). */
class AgeReached {
  constructor(readonly flushes: number) {}
}

/** Runs `f` on a batch and releases its temp file afterwards, whatever the outcome. */
export const use = <A, E, R>(batch: Batch, f: (batch: Batch) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.ensuring(f(batch), batch.release)

const tempFileFailed = (message: string) => (cause: unknown) =>
  new BatcherError({ reason: "TempFileFailed", message, cause })

const removeFile = (path: string): Effect.Effect<void> =>
  Effect.ignore(Effect.tryPromise(() => rm(path, { force: true })))

const memoryBody = (buffer: Buffer): BatchBody => ({
  bytes: buffer.length,
  path: Option.none(),
  stream: Stream.succeed(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length)),
  readable: Effect.sync(() => Readable.from([buffer]))
})

const openBatchFile = (path: string) => createReadStream(path, { highWaterMark: fileReadChunkBytes })

const fileBody = (path: string, bytes: number): BatchBody => ({
  bytes,
  path: Option.some(path),
  stream: Stream.suspend(() =>
    Stream.fromAsyncIterable<Uint8Array, BatcherError>(
      openBatchFile(path),
      tempFileFailed(`cannot read batch file ${path}`)
    )
  ),
  readable: Effect.sync(() => openBatchFile(path))
})

interface OpenBatch {
  rowCount: number
  bytes: number
  firstOrdinal: number
  lastOrdinal: number
  readonly checkpoints: Array<string>
  /** Keys of the rows in this batch, when rows carry keys. */
  readonly keys: KeySet
  /** Bytes not yet written to the file (the header first, until the first write). */
  pending: Array<Uint8Array>
  pendingBytes: number
  file: { readonly path: string; readonly handle: FileHandle } | undefined
}

const validateOptions = (options: Options, headerBytes: number, maxBatchBytes: number): Option.Option<string> => {
  if (!options.header.endsWith("\n")) return Option.some("the header must end with \\n")
  if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes <= headerBytes) {
    return Option.some(`maxBatchBytes (${maxBatchBytes}) must be an integer above the header's ${headerBytes} bytes`)
  }
  if (options.maxBatchRows !== undefined && (!Number.isSafeInteger(options.maxBatchRows) || options.maxBatchRows < 1)) {
    return Option.some(`maxBatchRows (${options.maxBatchRows}) must be a positive integer`)
  }
  if (options.spillThresholdBytes !== undefined && !(options.spillThresholdBytes > 0)) {
    return Option.some(`spillThresholdBytes (${options.spillThresholdBytes}) must be positive`)
  }
  return Option.none()
}

/** Rows and checkpoints in, batches (and oversized rows, trailing checkpoints) out. */
export const batches =
  (options: Options) =>
  <E, R>(input: Stream.Stream<BatchInput, E, R>): Stream.Stream<BatchOutput, E | BatcherError, R> => {
    const header = Buffer.from(options.header, "utf8")
    const headerBytes = header.length
    const maxBatchBytes = options.maxBatchBytes ?? defaultMaxBatchBytes
    const maxBatchRows = options.maxBatchRows ?? Number.POSITIVE_INFINITY
    const maxAgeMillis =
      options.maxBatchAge === undefined ? undefined : Duration.toMillis(Duration.decode(options.maxBatchAge))
    const spillThresholdBytes = options.spillThresholdBytes ?? defaultSpillThresholdBytes
    const invalid = validateOptions(options, headerBytes, maxBatchBytes)
    if (Option.isSome(invalid)) {
      return Stream.fail(new BatcherError({ reason: "InvalidOptions", message: invalid.value }))
    }

    return Stream.unwrapScoped(
      Effect.gen(function* () {
        let tempDirectory: string | undefined
        let fileCount = 0
        let current: OpenBatch | undefined
        /** Checkpoints after the last row placed anywhere. */
        let trailingCheckpoints: Array<string> = []
        /** When the oldest unflushed item (row or checkpoint) arrived. */
        let pendingSince: number | undefined
        /** Flushes so far: a max-age reminder is for the batch pending when it was scheduled. */
        let flushes = 0
        let ended = false

        /** Files of batches handed out and not yet released. */
        const outstanding = new Set<string>()
        let streamClosed = false
        const removeDirectoryWhenIdle = Effect.suspend(() => {
          const directory = tempDirectory
          if (!streamClosed || outstanding.size > 0 || directory === undefined) return Effect.void
          tempDirectory = undefined
          return Effect.ignore(Effect.tryPromise(() => rm(directory, { recursive: true, force: true })))
        })

        // When the stream ends normally, a batch still being uploaded keeps its file (and the
        // directory): with concurrent consumers the stream ends while earlier batches are in use,
        // and the directory goes with the last release. When it fails or is interrupted, its
        // consumers are going away too, and every file goes at once.
        yield* Effect.addFinalizer((exit) =>
          Effect.gen(function* () {
            const open = current?.file
            if (open !== undefined) {
              yield* Effect.ignore(Effect.tryPromise(() => open.handle.close()))
              yield* removeFile(open.path)
            }
            streamClosed = true
            if (Exit.isFailure(exit)) outstanding.clear()
            yield* removeDirectoryWhenIdle
          })
        )

        const directory = Effect.gen(function* () {
          if (tempDirectory !== undefined) return tempDirectory
          const created = yield* Effect.tryPromise({
            try: () => mkdtemp(join(options.tempDir ?? tmpdir(), "sfdc-batcher-")),
            catch: tempFileFailed("cannot create the temp directory")
          })
          tempDirectory = created
          return created
        })

        const writePending = (batch: OpenBatch) =>
          Effect.gen(function* () {
            const buffer = Buffer.concat(batch.pending, batch.pendingBytes)
            batch.pending = []
            batch.pendingBytes = 0
            let file = batch.file
            if (file === undefined) {
              const path = join(yield* directory, `batch-${++fileCount}.csv`)
              const handle = yield* Effect.tryPromise({
                try: () => open(path, "wx"),
                catch: tempFileFailed(`cannot create batch file ${path}`)
              })
              file = { path, handle }
              batch.file = file
            }
            const handle = file.handle
            yield* Effect.tryPromise({
              try: () => handle.writeFile(buffer),
              catch: tempFileFailed(`cannot write batch file ${file.path}`)
            })
          })

        const close = (batch: OpenBatch) =>
          Effect.gen(function* () {
            current = undefined
            let body: BatchBody
            let release: Effect.Effect<void> = Effect.void
            const file = batch.file
            if (file === undefined) {
              body = memoryBody(Buffer.concat(batch.pending, batch.pendingBytes))
            } else {
              if (batch.pending.length > 0) yield* writePending(batch)
              batch.file = undefined
              yield* Effect.tryPromise({
                try: () => file.handle.close(),
                catch: tempFileFailed(`cannot close batch file ${file.path}`)
              })
              body = fileBody(file.path, batch.bytes)
              outstanding.add(file.path)
              release = Effect.suspend(() =>
                outstanding.delete(file.path) ? Effect.zipRight(removeFile(file.path), removeDirectoryWhenIdle) : Effect.void
              )
            }
            const batchOut: Batch = {
              _tag: "Batch",
              rowCount: batch.rowCount,
              bytes: batch.bytes,
              firstOrdinal: batch.firstOrdinal,
              lastOrdinal: batch.lastOrdinal,
              checkpoints: batch.checkpoints,
              keys: batch.keys,
              body,
              release
            }
            return batchOut
          })

        /** Emits the open batch and, when asked, the checkpoints after it. */
        const flush = (out: Array<BatchOutput>, withTrailing: boolean) =>
          Effect.gen(function* () {
            flushes++
            if (current !== undefined) out.push(yield* close(current))
            if (withTrailing && trailingCheckpoints.length > 0) {
              out.push({ _tag: "Checkpoints", checkpoints: trailingCheckpoints })
              trailingCheckpoints = []
            }
            pendingSince = trailingCheckpoints.length > 0 ? yield* Clock.currentTimeMillis : undefined
          })

        const openBatch = (firstOrdinal: number): OpenBatch => {
          const batch: OpenBatch = {
            rowCount: 0,
            bytes: headerBytes,
            firstOrdinal,
            lastOrdinal: firstOrdinal,
            checkpoints: trailingCheckpoints,
            keys: new KeySet(),
            pending: [header],
            pendingBytes: headerBytes,
            file: undefined
          }
          trailingCheckpoints = []
          current = batch
          return batch
        }

        /**
         * Places a block's rows, splitting it where a batch fills up. Rows go to the open batch
         * as runs (slices of the block's bytes), so the common case touches no row's bytes.
         */
        const processRows = (block: RowBlock.RowBlock, out: Array<BatchOutput>) =>
          Effect.gen(function* () {
            const { bytes, ends, keys } = block
            /** Rows are contiguous: `runStart..runEnd` are placed in `current` and not yet in its `pending`. */
            let runStart = 0
            let runEnd = 0
            const endRun = (batch: OpenBatch) => {
              if (runEnd > runStart) {
                batch.pending.push(bytes.subarray(runStart, runEnd))
                batch.pendingBytes += runEnd - runStart
              }
              runStart = runEnd
            }
            for (let index = 0; index < ends.length; index++) {
              const rowStart = index === 0 ? 0 : (ends[index - 1] ?? 0)
              const rowEnd = ends[index] ?? rowStart
              const rowBytes = rowEnd - rowStart
              const ordinal = block.firstOrdinal + index
              const key = keys?.[index]
              if (pendingSince === undefined) pendingSince = yield* Clock.currentTimeMillis
              if (headerBytes + rowBytes > maxBatchBytes) {
                if (current !== undefined) endRun(current)
                yield* flush(out, false)
                out.push({
                  _tag: "OversizedRow",
                  ordinal,
                  bytes: rowBytes,
                  reason: `row ${ordinal} is ${rowBytes} bytes; with the ${headerBytes}-byte header it exceeds maxBatchBytes (${maxBatchBytes})`,
                  checkpoints: trailingCheckpoints
                })
                trailingCheckpoints = []
                runStart = rowEnd
                runEnd = rowEnd
                continue
              }
              const repeatsKey = key !== undefined && current !== undefined && current.keys.has(key)
              if (current !== undefined && (current.bytes + rowBytes > maxBatchBytes || repeatsKey)) {
                endRun(current)
                yield* flush(out, false)
                if (pendingSince === undefined) pendingSince = yield* Clock.currentTimeMillis
              }
              const batch = current ?? openBatch(ordinal)
              if (trailingCheckpoints.length > 0) {
                for (const id of trailingCheckpoints) batch.checkpoints.push(id)
                trailingCheckpoints = []
              }
              runEnd = rowEnd
              batch.rowCount++
              batch.bytes += rowBytes
              batch.lastOrdinal = ordinal
              if (key !== undefined) batch.keys.add(key)
              if (batch.rowCount >= maxBatchRows || batch.bytes === maxBatchBytes) {
                endRun(batch)
                yield* flush(out, false)
              }
            }
            const batch = current
            if (batch !== undefined) {
              endRun(batch)
              if (batch.pendingBytes >= spillThresholdBytes) yield* writePending(batch)
            }
          })

        const processChunk = (chunk: Chunk.Chunk<BatchInput>, out: Array<BatchOutput>) =>
          Effect.gen(function* () {
            for (const item of chunk) {
              if (item._tag === "Checkpoint") {
                if (pendingSince === undefined) pendingSince = yield* Clock.currentTimeMillis
                trailingCheckpoints.push(item.id)
                continue
              }
              yield* processRows(item, out)
            }
          })

        // Input chunks, and reminders that a pending batch has reached maxBatchAge. A reminder is
        // scheduled once per batch: a timeout on every take cost a timer and a fiber race per
        // input chunk, a fifth of the pipeline's throughput.
        const queue = yield* Queue.bounded<Take.Take<BatchInput, E> | AgeReached>(inputBufferChunks)
        yield* Effect.forkScoped(Stream.runIntoQueue(input, queue))
        const scope = yield* Effect.scope
        /** The value of `flushes` a reminder was last scheduled for. */
        let remindedAt: number | undefined
        /** The last reminder scheduled; an earlier batch's is stopped, so at most one sleeps. */
        let reminderFiber: Fiber.RuntimeFiber<boolean> | undefined

        const remindAtMaxAge = Effect.suspend(() => {
          const since = pendingSince
          if (maxAgeMillis === undefined || since === undefined || remindedAt === flushes) return Effect.void
          remindedAt = flushes
          const reminder = new AgeReached(flushes)
          const stale = reminderFiber
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.forkIn(Effect.zipRight(Effect.sleep(Duration.millis(Math.max(0, since + maxAgeMillis - now))), Queue.offer(queue, reminder)), scope)
          ).pipe(
            Effect.tap((fiber) => {
              reminderFiber = fiber
            }),
            Effect.zipRight(stale === undefined ? Effect.void : Fiber.interruptFork(stale))
          )
        })

        /** The next non-empty chunk of outputs, or none once the input has ended and all is flushed. */
        const step: Effect.Effect<Option.Option<Chunk.Chunk<BatchOutput>>, E | BatcherError> = Effect.gen(function* () {
          const out: Array<BatchOutput> = []
          while (out.length === 0) {
            if (ended) return Option.none()
            yield* remindAtMaxAge
            const next = yield* Queue.take(queue)
            if (next instanceof AgeReached) {
              // a reminder for a batch flushed since is stale
              if (next.flushes === flushes) yield* flush(out, true)
              continue
            }
            yield* Take.match(next, {
              onEnd: () =>
                Effect.gen(function* () {
                  ended = true
                  yield* flush(out, true)
                }),
              onFailure: (cause) => Effect.failCause(cause),
              onSuccess: (chunk) => processChunk(chunk, out)
            })
          }
          return Option.some(Chunk.unsafeFromArray(out))
        })

        const pull = step.pipe(
          Effect.mapError(Option.some),
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(Option.none()), onSome: Effect.succeed }))
        )

        return Stream.repeatEffectChunkOption(pull)
      })
    )
  }

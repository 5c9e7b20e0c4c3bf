/**
 * Splits a stream of encoded CSV rows into Bulk API 2.0 upload bodies: at most `maxBatchBytes`
 * (header included, exact UTF-8 bytes) and optionally `maxBatchRows` rows each, flushed early after
 * `maxBatchAge` on slow streams. A batch past `spillThresholdBytes` is written to a temp file, so
 * memory stays flat whatever the batch size. Every batch carries its lineage (ordinal range and
 * the checkpoints it covers) so the caller can release state exactly.
 *
 * A batch never names one record twice in one upload: Salesforce fails every row of a job that
 * does. A row whose key (external id or Id) the batch already holds goes to a later part of the
 * batch, a body of its own sent as a job after the part before it is done, so the later row wins
 * and rows that repeat a key (a join that fans out) cost a job per repeat, not a job per row.
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
/**
 * Parts one batch holds at most: a row repeating its key more often than this within a batch
 * starts the next batch (it would need a job of its own either way).
 */
export const defaultMaxBatchParts = 10
/** Input chunks buffered ahead of the batcher (back-pressure beyond that). */
const inputBufferChunks = 4

/**
 * Encoded rows (a `RowBlock`, in input order) or a checkpoint (a source state) in stream order.
 * A row's `key` (its external id or Id) is never repeated within one part of a batch: a
 * repeated key goes to the batch's next part (see `Batch.parts`).
 */
export type BatchInput =
  | RowBlock.RowBlock
  | { readonly _tag: "Checkpoint"; readonly id: string }
  /** Closes the open batch now (and emits the checkpoints after it). */
  | { readonly _tag: "Flush" }

/** One encoded row as input (rows produced in bulk go faster as a `RowBlock`). */
export const row = (ordinal: number, encoded: { readonly line: string }, key?: string): BatchInput =>
  RowBlock.single(ordinal, encoded.line, key)

export const checkpoint = (id: string): BatchInput => ({ _tag: "Checkpoint", id })

export const flushNow: BatchInput = { _tag: "Flush" }

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

/** One upload body of a batch: one job. */
export interface BatchPart {
  readonly rowCount: number
  /** Same as `body.bytes`: header plus rows. */
  readonly bytes: number
  readonly body: BatchBody
  /** The ordinals of its rows, in the order of the body. */
  readonly ordinals: () => Iterable<number>
}

/** CSV upload bodies and their lineage. */
export interface Batch {
  readonly _tag: "Batch"
  /** Rows in all its parts. */
  readonly rowCount: number
  /** Bytes of all its parts, a header each. */
  readonly bytes: number
  readonly firstOrdinal: number
  readonly lastOrdinal: number
  /** Checkpoints seen after the previous item's last row and up to this batch's last row, in order. */
  readonly checkpoints: ReadonlyArray<string>
  /** The matching keys of its rows (empty when rows carry none). */
  readonly keys: KeySet
  /**
   * Its bodies, to send one after the other, each once the one before is done. Nearly always
   * one: a later part holds the rows whose key the part before it already names.
   */
  readonly parts: readonly [BatchPart, ...Array<BatchPart>]
  /** Removes the temp files now (idempotent); the stream removes them anyway when it ends. */
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
  /** Default 1 MiB (what all parts of a batch hold together). */
  readonly spillThresholdBytes?: number
  /** Parts of one batch (default `defaultMaxBatchParts`); 1 starts a new batch at every repeated key. */
  readonly maxBatchParts?: number
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

interface OpenPart {
  rowCount: number
  bytes: number
  /** Keys of its rows, when rows carry keys. */
  readonly keys: KeySet
  /** Bytes not yet written to the file (the header first, until the first write). */
  pending: Array<Uint8Array>
  pendingBytes: number
  file: { readonly path: string; readonly handle: FileHandle } | undefined
  /** Its rows' ordinals as runs: `[from, to]` pairs, flat. */
  readonly ordinalRuns: Array<number>
}

interface OpenBatch {
  firstOrdinal: number
  lastOrdinal: number
  readonly checkpoints: Array<string>
  /** Holds every key of the batch: a later part only takes keys the part before it holds. */
  readonly first: OpenPart
  readonly later: Array<OpenPart>
}

const addOrdinal = (part: OpenPart, ordinal: number) => {
  const runs = part.ordinalRuns
  const last = runs.length - 1
  if (last > 0 && runs[last] === ordinal - 1) runs[last] = ordinal
  else runs.push(ordinal, ordinal)
}

const ordinalsOf = (runs: ReadonlyArray<number>) =>
  function* (): Generator<number> {
    for (let run = 0; run + 1 < runs.length; run += 2) {
      const to = runs[run + 1] ?? 0
      for (let ordinal = runs[run] ?? 0; ordinal <= to; ordinal++) yield ordinal
    }
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
  if (options.maxBatchParts !== undefined && (!Number.isSafeInteger(options.maxBatchParts) || options.maxBatchParts < 1)) {
    return Option.some(`maxBatchParts (${options.maxBatchParts}) must be a positive integer`)
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
    const maxBatchParts = options.maxBatchParts ?? defaultMaxBatchParts
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
            const parts = current === undefined ? [] : [current.first, ...current.later]
            for (const part of parts) {
              const open = part.file
              if (open === undefined) continue
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

        const writePending = (batch: OpenPart) =>
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

        /** A part's body, and the release of its file. */
        const closePart = (part: OpenPart) =>
          Effect.gen(function* () {
            const file = part.file
            if (file === undefined) {
              return { body: memoryBody(Buffer.concat(part.pending, part.pendingBytes)), release: Effect.void }
            }
            if (part.pending.length > 0) yield* writePending(part)
            part.file = undefined
            yield* Effect.tryPromise({
              try: () => file.handle.close(),
              catch: tempFileFailed(`cannot close batch file ${file.path}`)
            })
            outstanding.add(file.path)
            return {
              body: fileBody(file.path, part.bytes),
              release: Effect.suspend(() =>
                outstanding.delete(file.path) ? Effect.zipRight(removeFile(file.path), removeDirectoryWhenIdle) : Effect.void
              )
            }
          })

        /** A closed part, and the release of its file. */
        const closedPart = (part: OpenPart) =>
          Effect.map(closePart(part), ({ body, release }) => ({
            part: { rowCount: part.rowCount, bytes: part.bytes, body, ordinals: ordinalsOf(part.ordinalRuns) } satisfies BatchPart,
            release
          }))

        /** Closes every part's file (a part whose close fails leaves the rest to the stream's finalizer). */
        const close = (batch: OpenBatch) =>
          Effect.gen(function* () {
            const first = yield* closedPart(batch.first)
            const later = yield* Effect.forEach(batch.later, closedPart)
            current = undefined
            const parts = [first, ...later]
            const batchOut: Batch = {
              _tag: "Batch",
              rowCount: parts.reduce((sum, { part }) => sum + part.rowCount, 0),
              bytes: parts.reduce((sum, { part }) => sum + part.bytes, 0),
              firstOrdinal: batch.firstOrdinal,
              lastOrdinal: batch.lastOrdinal,
              checkpoints: batch.checkpoints,
              keys: batch.first.keys,
              parts: [first.part, ...later.map(({ part }) => part)],
              release: Effect.forEach(parts, ({ release }) => release, { discard: true })
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

        const openPart = (): OpenPart => ({
          rowCount: 0,
          bytes: headerBytes,
          keys: new KeySet(),
          pending: [header],
          pendingBytes: headerBytes,
          file: undefined,
          ordinalRuns: []
        })

        const openBatch = (firstOrdinal: number): OpenBatch => {
          const batch: OpenBatch = {
            firstOrdinal,
            lastOrdinal: firstOrdinal,
            checkpoints: trailingCheckpoints,
            first: openPart(),
            later: []
          }
          trailingCheckpoints = []
          current = batch
          return batch
        }

        /**
         * Places a block's rows, splitting it where a batch fills up. Rows go to the open batch
         * as runs (slices of the block's bytes), so the common case touches no row's bytes.
         */
        /**
         * The later part of `batch` for a row whose key its first part holds: the first part not
         * holding the key yet (so the parts send the key's rows in their order). `undefined` when
         * that part is full or the batch has all its parts: the row starts a new batch.
         */
        const laterPartFor = (batch: OpenBatch, key: string, rowBytes: number): OpenPart | undefined => {
          for (const part of batch.later) {
            if (part.keys.has(key)) continue
            return part.bytes + rowBytes > maxBatchBytes || part.rowCount >= maxBatchRows ? undefined : part
          }
          if (batch.later.length + 1 >= maxBatchParts) return undefined
          const part = openPart()
          batch.later.push(part)
          return part
        }

        /**
         * Places a block's rows, splitting it where a batch fills up. Rows go to a batch's parts
         * as views of the block's bytes (to the first part as runs), so the common case touches no
         * row's bytes. The parts spill by what they hold together: nearly all of a block's bytes
         * are in them, so the views keep only the last few blocks alive.
         */
        const processRows = (block: RowBlock.RowBlock, out: Array<BatchOutput>) =>
          Effect.gen(function* () {
            const { bytes, ends, keys } = block
            /** Rows are contiguous: `runStart..runEnd` are placed in `current`'s first part and not yet in its `pending`. */
            let runStart = 0
            let runEnd = 0
            const endRun = (batch: OpenBatch) => {
              if (runEnd > runStart) {
                batch.first.pending.push(bytes.subarray(runStart, runEnd))
                batch.first.pendingBytes += runEnd - runStart
              }
              runStart = runEnd
            }
            const closeCurrent = (batch: OpenBatch) =>
              Effect.gen(function* () {
                endRun(batch)
                yield* flush(out, false)
                if (pendingSince === undefined) pendingSince = yield* Clock.currentTimeMillis
              })
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
              const open = current
              if (open !== undefined) {
                if (open.first.bytes + rowBytes > maxBatchBytes) yield* closeCurrent(open)
                else if (key !== undefined && open.first.keys.has(key)) {
                  const part = laterPartFor(open, key, rowBytes)
                  if (part === undefined) yield* closeCurrent(open)
                  else {
                    endRun(open)
                    runStart = rowEnd
                    runEnd = rowEnd
                    if (trailingCheckpoints.length > 0) {
                      for (const id of trailingCheckpoints) open.checkpoints.push(id)
                      trailingCheckpoints = []
                    }
                    part.pending.push(bytes.subarray(rowStart, rowEnd))
                    part.pendingBytes += rowBytes
                    part.rowCount++
                    part.bytes += rowBytes
                    part.keys.add(key)
                    addOrdinal(part, ordinal)
                    open.lastOrdinal = ordinal
                    continue
                  }
                }
              }
              const batch = current ?? openBatch(ordinal)
              if (trailingCheckpoints.length > 0) {
                for (const id of trailingCheckpoints) batch.checkpoints.push(id)
                trailingCheckpoints = []
              }
              const first = batch.first
              runEnd = rowEnd
              first.rowCount++
              first.bytes += rowBytes
              addOrdinal(first, ordinal)
              batch.lastOrdinal = ordinal
              if (key !== undefined) first.keys.add(key)
              if (first.rowCount >= maxBatchRows || first.bytes === maxBatchBytes) {
                endRun(batch)
                yield* flush(out, false)
              }
            }
            const batch = current
            if (batch !== undefined) {
              endRun(batch)
              // the threshold bounds what the batch holds in memory, all parts together
              let held = batch.first.pendingBytes
              for (const part of batch.later) held += part.pendingBytes
              if (held >= spillThresholdBytes) {
                for (const part of [batch.first, ...batch.later]) if (part.pendingBytes > 0) yield* writePending(part)
              }
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
              if (item._tag === "Flush") {
                yield* flush(out, true)
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

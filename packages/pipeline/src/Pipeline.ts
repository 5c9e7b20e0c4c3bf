/**
 * The sync engine both apps share.
 *
 * Records flow per stream through mapping and encoding (with local validation) into a
 * batcher, whose batches go to Salesforce as ingest jobs, a bounded number in flight across
 * all streams. Every row ends committed or durably rejected; checkpoints come back out, in
 * order, only once every record before them has. Memory stays flat: input is read as fast
 * as batches drain, and batches live on disk.
 */
import { Batcher, CsvEncoder, CsvValue, type FieldMetadata, RowBlock } from "@sfdc-activation/batcher"
import { type BulkClient, PipedUpload } from "@sfdc-activation/bulk-client"
import { type RejectedRecord, RejectSink } from "@sfdc-activation/rejects-s3"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Mailbox from "effect/Mailbox"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { CheckpointTracker, type Released, type Scope } from "./CheckpointTracker.js"
import * as IngestBatch from "./IngestBatch.js"
import { KeyOrder } from "./KeyOrder.js"
import { RejectedRows } from "./RejectedRows.js"
import { PipelineError } from "./PipelineError.js"
import { type SyncSummary, SyncStats } from "./SyncStats.js"

/** How one stream's records become rows of one sObject. */
export interface StreamPlan {
  readonly stream: RejectedRecord.StreamDescriptor
  readonly object: FieldMetadata.ObjectMetadata
  /** Parent objects of relationship columns, for typing their values. */
  readonly parents?: Readonly<Record<string, FieldMetadata.ObjectMetadata>> | undefined
  readonly operation: CsvEncoder.Operation
  readonly externalIdFieldName?: string | undefined
  readonly columns: ReadonlyArray<CsvEncoder.Column>
  readonly nullPolicy?: CsvEncoder.NullPolicy | undefined
  /** Validate rows against describe before sending (default true). */
  readonly validate?: boolean | undefined
  /** One job at a time for this stream (objects prone to lock contention). */
  readonly serial?: boolean | undefined
  /**
   * What the records are: `source` records for the columns to map (the default), or rows `sent`
   * before, by field (a replay). Rows refused before sending are stored in this form.
   */
  readonly rowForm?: RejectedRecord.RowForm | undefined
}

export interface PipelineOptions {
  /** Jobs in flight across all streams (default 4). */
  readonly maxConcurrentJobs?: number | undefined
  readonly maxBatchBytes?: number | undefined
  readonly maxBatchRows?: number | undefined
  /** Flush a partial batch this long after its first row (default 5 minutes). */
  readonly maxBatchAge?: Duration.DurationInput | undefined
  readonly tempDir?: string | undefined
  readonly syncId?: string | undefined
  readonly ingest?: Partial<IngestBatch.IngestOptions> | undefined
  /** Checkpoints waiting before the open batches are sent as they stand (default `defaultMaxWaitingCheckpoints`). */
  readonly maxWaitingCheckpoints?: number | undefined
  /**
   * Once it completes (a signal asked the run to stop), no more input is read and no new job
   * starts; jobs already started run to their end, the checkpoints they complete are released,
   * then the run fails with `Stopped`. Interrupting the run instead aborts what is open.
   */
  readonly stop?: Effect.Effect<void> | undefined
}

export const defaultMaxConcurrentJobs = 4
export const defaultMaxBatchAge: Duration.DurationInput = "5 minutes"

/** Rows rejected before batching are written this many at a time. */
const localRejectFlushCount = 1_000
/** …or sooner, once the rows they hold reach this many characters (rows of a megabyte each). */
const localRejectFlushChars = 16 * 1024 * 1024
/**
 * Rows are handed to a stream's batcher in blocks of about this many characters (a block also
 * ends with its input chunk): with `laneCapacity`, what waits ahead of a batcher is bounded in
 * bytes whatever the source's chunk size (a 1 MiB file read is ~7,000 rows).
 */
const maxBlockChars = 256 * 1024
/** Blocks of rows queued ahead of each stream's batcher. */
const laneCapacity = 16
/**
 * A stream's rows go to its lane once this many characters wait, and every stream's rows at
 * least every `rowHandOverInterval`: with many streams interleaved, a block per stream per input
 * chunk was a row or two, and a lane offer and batcher step per row (300 streams read 8 × slower).
 */
const minBlockChars = 64 * 1024
const rowHandOverInterval = Duration.seconds(1)
/**
 * Checkpoints waiting before every stream's open batch is sent as it stands. A waiting checkpoint
 * costs ~1 KB (a source sending a state after every record held 570 MB for 300,000 of them in one
 * 100 MB batch); sources that send one every few thousand records never reach it.
 */
export const defaultMaxWaitingCheckpoints = 10_000
/** Bytes of open batches held in memory across all streams before they spill to disk, shared out. */
const memoryForOpenBatches = 64 * 1024 * 1024
const minSpillThresholdBytes = 64 * 1024

export type PipelineInput<P> =
  | { readonly _tag: "Record"; readonly stream: string; readonly data: Readonly<Record<string, unknown>> }
  /** `scope`: the stream key of a per-stream checkpoint; `undefined` for one covering every stream. */
  | { readonly _tag: "Checkpoint"; readonly scope: Scope; readonly payload: P }

export const record = <P = never>(stream: string, data: Readonly<Record<string, unknown>>): PipelineInput<P> => ({
  _tag: "Record",
  stream,
  data
})

export const checkpoint = <P>(payload: P, scope?: string): PipelineInput<P> => ({ _tag: "Checkpoint", scope, payload })

export type PipelineEvent<P> =
  | ({ readonly _tag: "CheckpointReleased" } & Released<P>)
  | { readonly _tag: "Finished"; readonly summary: SyncSummary }
  /** The run is about to fail: what was settled before it stopped (the failure comes next). */
  | { readonly _tag: "Stopped"; readonly summary: SyncSummary }

/** Why a row was refused before it was sent. */
interface LocalError {
  readonly statusCode: string
  readonly message: string
  readonly fields: ReadonlyArray<string>
}

interface LocalReject {
  readonly stream: string
  readonly epoch: number
  readonly record: RejectedRecord.RejectedRecord
}

/**
 * A record refused before it was sent, as stored: its values as text (a null of a row as sent
 * as `#N/A`, as it was sent), and the values themselves when text would not give them back.
 */
const storedRow = (data: Readonly<Record<string, unknown>>, rowForm: RejectedRecord.RowForm) => {
  const row: Record<string, string> = {}
  let allText = true
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === "string") row[key] = value
    else if (value === null) row[key] = rowForm === "sent" ? CsvValue.clearCell : ""
    else if (value === undefined) row[key] = ""
    else {
      allText = false
      row[key] = CsvValue.text(value) ?? keptText(value)
    }
  }
  return allText ? { row, rowForm } : { row, rowForm, sourceValues: jsonRecord(data) }
}

/**
 * The cell of a value the encoder cannot write as text (an invalid date, an object holding a
 * bigint): the text its source value keeps, so a replay tells the cell as stored from one edited.
 */
const keptText = (value: unknown): string => {
  const kept = jsonValue(value)
  return typeof kept === "string" ? kept : (JSON.stringify(kept) ?? "")
}

/**
 * A source value as JSON keeps it: what JSON cannot hold (NaN, ±Infinity, an invalid date, bytes,
 * a bigint) as the text the encoder read it as, so that a replay is sent, or refused, alike (JSON
 * would have made the first three null, which clears a field).
 */
const jsonValue = (value: unknown): unknown => {
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value)
  if (typeof value === "bigint") return String(value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString()
  if (value instanceof Uint8Array) return CsvValue.text(value)
  if (Array.isArray(value)) return value.map(jsonValue)
  if (typeof value === "object" && value !== null) return jsonRecord(value)
  return value
}

const jsonRecord = (values: object): Record<string, unknown> => {
  const record: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(values)) record[key] = jsonValue(value)
  return record
}

/**
 * Runs records and checkpoints through Salesforce. `plans` are keyed by the stream key
 * records and per-stream checkpoints carry.
 */
export const run =
  <P>(plans: ReadonlyMap<string, StreamPlan>, options: PipelineOptions = {}) =>
  <E, R>(
    input: Stream.Stream<PipelineInput<P>, E, R>
  ): Stream.Stream<PipelineEvent<P>, E | PipelineError, R | BulkClient.BulkClient | RejectSink.RejectSink> =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        const sink = yield* RejectSink.RejectSink
        const encoders = new Map<string, CsvEncoder.CsvEncoder>()
        for (const [key, plan] of plans) {
          const encoder = CsvEncoder.make({
            object: plan.object,
            operation: plan.operation,
            columns: plan.columns,
            ...(plan.parents === undefined ? {} : { parents: plan.parents }),
            ...(plan.externalIdFieldName === undefined ? {} : { externalIdFieldName: plan.externalIdFieldName }),
            ...(plan.nullPolicy === undefined ? {} : { nullPolicy: plan.nullPolicy }),
            ...(plan.validate === undefined ? {} : { validate: plan.validate })
          })
          if (Either.isLeft(encoder)) {
            return yield* new PipelineError({ reason: "InvalidMapping", stream: key, detail: encoder.left.message })
          }
          encoders.set(key, encoder.right)
        }

        /** Where each stream's matching key comes from: one record per key per job. */
        const keySources = new Map<string, { readonly key: string; readonly caseInsensitive: boolean; readonly inherited: boolean }>()
        for (const [key, plan] of plans) {
          const matchField = plan.operation === "upsert" ? plan.externalIdFieldName : plan.operation === "insert" ? undefined : "Id"
          const source = plan.columns.find((column) => column.column.toLowerCase() === matchField?.toLowerCase())?.source
          if (source !== undefined && "key" in source) {
            keySources.set(key, { key: source.key, caseInsensitive: matchField?.toLowerCase() !== "id", inherited: source.key in Object.prototype })
          }
        }
        /** The matching key of a record: external ids compare case-insensitively, Ids by their 15-character form. */
        const keyOf = (stream: string, data: Readonly<Record<string, unknown>>): string | undefined => {
          const source = keySources.get(stream)
          if (source === undefined) return undefined
          // a key every object inherits (`constructor`) is the record's only when its own
          const value = source.inherited && !Object.hasOwn(data, source.key) ? undefined : data[source.key]
          if (value === undefined || value === null) return undefined
          const text = typeof value === "string" ? value : JSON.stringify(value)
          return source.caseInsensitive ? text.toLowerCase() : text.slice(0, 15)
        }

        /** Set once `options.stop` completes: nothing more goes to Salesforce. */
        let stopRequested = false
        const ingestOptions: IngestBatch.IngestOptions = {
          ...IngestBatch.defaultIngestOptions,
          ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
          ...options.ingest,
          stopped: () => stopRequested
        }
        const tracker = new CheckpointTracker<P>()
        const stats = new SyncStats()
        const output = yield* Mailbox.make<PipelineEvent<P>, E | PipelineError>()
        const jobSlots = yield* Effect.makeSemaphore(options.maxConcurrentJobs ?? defaultMaxConcurrentJobs)
        const releaseLock = yield* Effect.makeSemaphore(1)

        const sinkFailed = (cause: { readonly message: string }) =>
          new PipelineError({ reason: "RejectSinkFailed", detail: cause.message, cause })

        /**
         * The first failure of a stream's batches or jobs. From then on no job starts; the jobs
         * already running finish and settle, so the checkpoints of work Salesforce committed
         * still go out (a rerun from an earlier one would insert those rows twice), then the
         * run fails with it.
         */
        let laneFailure: Cause.Cause<PipelineError> | undefined
        const stopping = yield* Deferred.make<void>()
        const laneFailed = (cause: Cause.Cause<PipelineError>) =>
          Effect.suspend(() => {
            if (Cause.isInterruptedOnly(cause)) return Effect.void
            laneFailure ??= cause
            return Deferred.succeed(stopping, undefined)
          })
        // asked to stop: as after a failure nothing new starts, and no job not yet closed is closed
        if (options.stop !== undefined) {
          yield* Effect.forkScoped(
            Effect.flatMap(options.stop, () =>
              Effect.suspend(() => {
                stopRequested = true
                return laneFailed(
                  Cause.fail(
                    new PipelineError({
                      reason: "Stopped",
                      detail: "the run was asked to stop: jobs already closed were awaited and the states of the records they settled released; nothing new was sent"
                    })
                  )
                )
              })
            )
          )
        }

        /** Checkpoints released and not yet emitted: kept when a flush fails or is interrupted. */
        const toEmit: Array<Released<P>> = []
        /** Emits the first `count` checkpoints of `toEmit`. */
        const emit = (count: number) =>
          Effect.uninterruptible(
            Effect.suspend(() => output.offerAll(toEmit.splice(0, count).map((item) => ({ _tag: "CheckpointReleased" as const, ...item }))))
          )
        /**
         * Applies a settlement (or a new checkpoint) and emits what it releases, in order, once
         * rejects are durable: a checkpoint whose records are all settled already (or that follows
         * no record at all) goes out as it arrives.
         *
         * The checkpoints before the first one with a rejected record go out without a flush: a
         * reject is written before its record is settled, and counted by the first checkpoint of
         * its scope released after that (one whose row is not found again, by the batch's
         * earliest), emitted only after a flush. So a rejects store that fails
         * holds back only the checkpoints of rejected records, never those of records committed
         * before them (an insert, sent again, would be made twice).
         */
        const settle = (change: () => void) =>
          releaseLock.withPermits(1)(
            Effect.gen(function* () {
              change()
              for (const released of tracker.release()) toEmit.push(released)
              const firstWithRejects = toEmit.findIndex((item) => item.rejectedCount > 0)
              yield* emit(firstWithRejects === -1 ? toEmit.length : firstWithRejects)
              if (toEmit.length === 0) return
              yield* Effect.mapError(sink.flush, sinkFailed)
              yield* emit(toEmit.length)
            })
          )

        const target = (plan: StreamPlan): IngestBatch.BatchTarget => ({
          object: plan.object.name,
          operation: plan.operation,
          externalIdFieldName: plan.externalIdFieldName,
          stream: plan.stream,
          syncId: options.syncId
        })

        const localRecord = (plan: StreamPlan, data: Readonly<Record<string, unknown>>, reject: LocalError, now: number) => {
          return {
            ...storedRow(data, plan.rowForm ?? "source"),
            sfError: `${reject.statusCode}:${reject.message}:${reject.fields.join(",")} --`,
            statusCode: reject.statusCode,
            message: reject.message,
            fields: reject.fields,
            object: plan.object.name,
            operation: plan.operation,
            stream: plan.stream,
            ...(options.syncId === undefined ? {} : { syncId: options.syncId }),
            rejectedAt: new Date(now).toISOString()
          }
        }

        const maxBatchBytes = options.maxBatchBytes ?? Batcher.defaultMaxBatchBytes
        /** A row that cannot fit in any batch, as a local reject. */
        const tooLarge = (encoder: CsvEncoder.CsvEncoder, line: string): LocalError | undefined => {
          // a UTF-16 code unit is at most 3 bytes in UTF-8: most rows need no count
          if (encoder.headerBytes + line.length * 3 <= maxBatchBytes) return undefined
          const bytes = Buffer.byteLength(line, "utf8")
          return encoder.headerBytes + bytes > maxBatchBytes
            ? {
                statusCode: "RECORD_TOO_LARGE",
                message: `the encoded row takes ${bytes} bytes; with the header it cannot fit a ${maxBatchBytes}-byte upload`,
                fields: []
              }
            : undefined
        }

        // each stream's open batch waits in memory up to its share, then on disk
        const spillThresholdBytes = Math.min(
          Batcher.defaultSpillThresholdBytes,
          Math.max(minSpillThresholdBytes, Math.floor(memoryForOpenBatches / Math.max(1, plans.size)))
        )

        /**
         * A batch's parts, one job after the other (a later part repeats keys of the one before),
         * then its settlement. After a failure no batch starts (a batch started goes on to its
         * end): its rows stay unsettled, their checkpoints held.
         */
        const sendBatch = (key: string, plan: StreamPlan, batch: Batcher.Batch) =>
          Effect.gen(function* () {
            // A batch holding several checkpoints' records finds its rejected rows, so each
            // checkpoint reports its own.
            const spansCheckpoints = tracker.epochsSpanned(key, batch.firstOrdinal, batch.lastOrdinal) > 1
            let rejected = 0
            const rejectedOrdinals: Array<number> = []
            let failure: PipelineError | undefined
            for (const [index, part] of batch.parts.entries()) {
              const rejectedRows = spansCheckpoints ? new RejectedRows() : undefined
              const outcome = yield* jobSlots.withPermits(1)(
                Effect.suspend(() =>
                  (index === 0 && laneFailure !== undefined) || stopRequested
                    ? Effect.succeed(undefined)
                    : IngestBatch.ingestBatch(
                        target(plan),
                        { content: new PipedUpload.NodeStreamBody(part.body.readable), bytes: part.bytes, rowCount: part.rowCount },
                        ingestOptions,
                        stats,
                        rejectedRows
                      )
                )
              )
              if (outcome === undefined) return
              yield* stats.add(key, outcome)
              rejected += outcome.rejected
              if (rejectedRows !== undefined && outcome.rejected > 0) {
                const found =
                  outcome.rejected < part.rowCount ? yield* rejectedRows.ordinalsIn(part.body.stream, part.ordinals()) : part.ordinals()
                for (const ordinal of found) rejectedOrdinals.push(ordinal)
              }
              // a part whose follow-ups ended early is settled, rows waiting rejected; the parts after it are not sent
              if (outcome.failure !== undefined) {
                if (index < batch.parts.length - 1) return yield* Effect.fail(outcome.failure)
                failure = outcome.failure
              }
            }
            if (batch.parts.length > 1) rejectedOrdinals.sort((left, right) => left - right)
            yield* settle(() => tracker.settleBatch(key, batch.firstOrdinal, batch.lastOrdinal, rejected, rejectedOrdinals))
            if (failure !== undefined) return yield* Effect.fail(failure)
          })

        /** One stream: its batcher and its jobs. */
        const lane = (key: string, plan: StreamPlan, encoder: CsvEncoder.CsvEncoder, rows: Mailbox.Mailbox<Batcher.BatchInput>) => {
          const order = new KeyOrder()
          return Mailbox.toStream(rows).pipe(
            Batcher.batches({
              header: encoder.header,
              maxBatchBytes,
              ...(options.maxBatchRows === undefined ? {} : { maxBatchRows: options.maxBatchRows }),
              maxBatchAge: options.maxBatchAge ?? defaultMaxBatchAge,
              spillThresholdBytes,
              ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir })
            }),
            Stream.mapError((cause) => new PipelineError({ reason: "BatchFailed", stream: key, detail: cause.message, cause })),
            // noticed at once, not when the lane's running jobs are done: no job starts meanwhile
            Stream.tapErrorCause((cause) => Effect.zipRight(rows.shutdown, laneFailed(cause))),
            // In input order, before any job starts: which earlier batches each one must wait for.
            Stream.map((item) => ({ item, turn: item._tag === "Batch" ? order.enter(item.keys) : undefined })),
            Stream.mapEffect(
              ({ item, turn }) => {
                switch (item._tag) {
                  case "Batch":
                    return Batcher.use(item, (batch) =>
                      Effect.zipRight(turn === undefined ? Effect.void : turn.wait, sendBatch(key, plan, batch))
                    ).pipe(
                      // The other jobs, of this stream and the others, go on to their end (a defect
                      // too: the lane's stream would interrupt them). Interruption goes through.
                      Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : laneFailed(cause))),
                      Effect.ensuring(turn === undefined ? Effect.void : turn.leave),
                      Effect.annotateLogs({ stream: key, object: plan.object.name })
                    )
                  case "OversizedRow":
                    // Rows too large for a batch are rejected before they reach the batcher.
                    return Effect.void
                  case "Checkpoints":
                    return Effect.void
                }
              },
              { concurrency: plan.serial === true ? 1 : (options.maxConcurrentJobs ?? defaultMaxConcurrentJobs) }
            ),
            Stream.runDrain
          )
        }

        const lanes = new Map<string, { readonly rows: Mailbox.Mailbox<Batcher.BatchInput>; readonly fiber: Fiber.RuntimeFiber<void, PipelineError> }>()
        const laneFor = (key: string, plan: StreamPlan, encoder: CsvEncoder.CsvEncoder) => {
          const existing = lanes.get(key)
          if (existing !== undefined) return Effect.succeed(existing.rows)
          return Effect.gen(function* () {
            const rows = yield* Mailbox.make<Batcher.BatchInput>({ capacity: laneCapacity })
            // A lane whose batcher failed reads no more rows: offers to it return at once.
            const fiber = yield* lane(key, plan, encoder, rows).pipe(
              Effect.tapErrorCause((cause) => Effect.zipRight(rows.shutdown, laneFailed(cause))),
              Effect.forkScoped
            )
            lanes.set(key, { rows, fiber })
            return rows
          })
        }

        let localRejects: Array<LocalReject> = []
        /** Characters of the rows `localRejects` hold. */
        let localRejectChars = 0
        /** Whether the rows refused before sending are due to go to the rejects store. */
        const localRejectsFull = () => localRejects.length >= localRejectFlushCount || localRejectChars >= localRejectFlushChars
        const flushLocalRejects = Effect.gen(function* () {
          if (localRejects.length === 0) return
          const batch = localRejects
          localRejects = []
          localRejectChars = 0
          yield* Effect.mapError(sink.write(batch.map((item) => item.record)), sinkFailed)
          for (const item of batch) {
            const code = item.record.statusCode
            yield* stats.add(item.stream, { created: 0, updated: 0, deleted: 0, rejected: 1, rejectedByStatusCode: { [code]: 1 }, bytesUploaded: 0, jobs: 0 }, true)
          }
          yield* settle(() => {
            for (const item of batch) tracker.settleRecord(item.stream, item.epoch, true)
          })
        })

        /** Each stream's rows of the current input chunk, packed for its lane. */
        const rowBlocks = new Map<string, RowBlock.RowBlockBuilder>()
        const blockFor = (stream: string): RowBlock.RowBlockBuilder => {
          let builder = rowBlocks.get(stream)
          if (builder === undefined) {
            builder = new RowBlock.RowBlockBuilder()
            rowBlocks.set(stream, builder)
          }
          return builder
        }
        /**
         * Hands the waiting rows to their lanes: of every stream (`all`), or of each stream with
         * `minBlockChars` waiting. One hand-over at a time, so a stream's blocks stay in order.
         */
        const handOver = yield* Effect.makeSemaphore(1)
        /** Set once the run drains: rows still waiting then stay unsettled. */
        let handOverClosed = false
        let handedOverAllAt = yield* Clock.currentTimeMillis
        const offerRowsOf = (all: boolean, closeBatches = false) =>
          handOver.withPermits(1)(
            Effect.gen(function* () {
              if (handOverClosed) return
              if (all) handedOverAllAt = yield* Clock.currentTimeMillis
              yield* Effect.forEach(
                rowBlocks,
                ([key, builder]) => {
                  if (!all && builder.chars < minBlockChars) return Effect.void
                  const block = builder.take()
                  const plan = plans.get(key)
                  const encoder = encoders.get(key)
                  if (block === undefined || plan === undefined || encoder === undefined) return Effect.void
                  return Effect.flatMap(laneFor(key, plan, encoder), (mailbox) => mailbox.offer(block))
                },
                { discard: true }
              )
              if (closeBatches) yield* Effect.forEach(lanes.values(), ({ rows }) => rows.offer(Batcher.flushNow), { discard: true })
            })
          )
        const offerRows = offerRowsOf(false)
        const offerAllRows = offerRowsOf(true)
        /** Checkpoints read since the open batches were last sent as they stood. */
        let checkpointsSinceClose = 0
        const maxWaitingCheckpoints = options.maxWaitingCheckpoints ?? defaultMaxWaitingCheckpoints
        /** Sends every open batch once too many checkpoints wait on them. */
        const boundWaitingCheckpoints = Effect.suspend(() => {
          if (++checkpointsSinceClose < maxWaitingCheckpoints || tracker.pendingCount < maxWaitingCheckpoints) return Effect.void
          checkpointsSinceClose = 0
          return offerRowsOf(true, true)
        })
        // rows still waiting are in no batch (nor under its max age): every stream's go at least once a second
        const intervalMillis = Duration.toMillis(rowHandOverInterval)
        yield* Effect.forkScoped(
          Effect.repeat(
            Effect.flatMap(Clock.currentTimeMillis, (now) => (now - handedOverAllAt >= intervalMillis ? offerAllRows : Effect.void)),
            Schedule.spaced(rowHandOverInterval)
          )
        )

        /**
         * Encodes records from `items[from]` on into their streams' blocks, until a checkpoint, a
         * full block, a full batch of local rejects or the end; returns where it stopped. Plain code, with no
         * Effect per record or generator per chunk: this is the hot path.
         */
        const encodeRecords = (items: ReadonlyArray<PipelineInput<P>>, from: number, now: number): number | PipelineError => {
          for (let index = from; index < items.length; index++) {
            const item = items[index]
            if (item === undefined || item._tag === "Checkpoint") return index
            const plan = plans.get(item.stream)
            const encoder = encoders.get(item.stream)
            if (plan === undefined || encoder === undefined) {
              return new PipelineError({
                reason: "UnknownStream",
                stream: item.stream,
                detail: `a record names stream ${JSON.stringify(item.stream)}, which the sync does not configure`
              })
            }
            stats.recordsIn(item.stream, 1)
            const epoch = tracker.addRecord(item.stream)
            const line = encoder.encodeLine(item.data)
            const refusal: LocalError | undefined = typeof line === "string" ? tooLarge(encoder, line) : line
            if (refusal !== undefined) {
              const record = localRecord(plan, item.data, refusal, now)
              localRejects.push({ stream: item.stream, epoch, record })
              for (const value of Object.values(record.row)) localRejectChars += value.length
              if (record.sourceValues !== undefined) localRejectChars += JSON.stringify(record.sourceValues).length
              if (localRejectsFull()) return index + 1
            } else if (typeof line === "string") {
              const block = blockFor(item.stream)
              block.add(tracker.assignOrdinal(item.stream, epoch), line, keyOf(item.stream, item.data))
              if (block.chars >= maxBlockChars) return index + 1
            }
          }
          return items.length
        }

        /** One input chunk, from `from` on: records into blocks, checkpoints in order between them. */
        const readChunk = (
          items: ReadonlyArray<PipelineInput<P>>,
          from: number,
          now: number
        ): Effect.Effect<void, PipelineError, Effect.Effect.Context<typeof offerRows>> =>
          Effect.suspend(() => {
            const stop = encodeRecords(items, from, now)
            if (typeof stop !== "number") return Effect.zipRight(offerAllRows, Effect.fail(stop))
            if (localRejectsFull()) return Effect.zipRight(flushLocalRejects, readChunk(items, stop, now))
            const item = items[stop]
            if (item === undefined) return offerRows
            if (item._tag !== "Checkpoint") return Effect.zipRight(offerRows, readChunk(items, stop, now))
            return offerRows.pipe(
              Effect.zipRight(flushLocalRejects),
              Effect.zipRight(settle(() => tracker.addCheckpoint(item.payload, item.scope))),
              Effect.zipRight(boundWaitingCheckpoints),
              Effect.zipRight(readChunk(items, stop + 1, now))
            )
          })

        // A failed stream stops the reading between chunks (the chunk in hand is finished, not
        // interrupted: its rejects and checkpoints stay whole); no more records are accepted.
        const readInput = input.pipe(
          Stream.interruptWhen(Deferred.await(stopping)),
          Stream.runForEachChunk((chunk) =>
            laneFailure !== undefined
              ? Effect.void
              : Effect.flatMap(Clock.currentTimeMillis, (now) => readChunk(Chunk.toReadonlyArray(chunk), 0, now))
          )
        )

        /**
         * Settles everything accepted so far: pending local rejects, then every lane to its end
         * (after a failure, rows not yet handed over stay unsettled and no new job starts). Each
         * step runs whatever an earlier one did; the failures come back, lanes' included.
         */
        const drain = Effect.gen(function* () {
          const causes: Array<Cause.Cause<PipelineError>> = []
          const step = (effect: Effect.Effect<void, PipelineError>) =>
            Effect.flatMap(Effect.exit(effect), (exit) => Effect.sync(() => void (Exit.isFailure(exit) && causes.push(exit.cause))))
          if (laneFailure === undefined) yield* offerAllRows
          // from here no row is handed over and no lane is made (the ticker included)
          yield* handOver.withPermits(1)(
            Effect.sync(() => {
              handOverClosed = true
              rowBlocks.clear()
            })
          )
          yield* step(flushLocalRejects)
          const ending = [...lanes.values()]
          for (const { rows } of ending) yield* rows.end
          for (const { fiber } of ending) {
            const exit = yield* Fiber.await(fiber)
            if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) causes.push(exit.cause)
          }
          yield* step(settle(() => undefined))
          yield* step(Effect.mapError(sink.flush, sinkFailed))
          return causes
        })

        // When the input breaks (malformed line, unknown stream) or a stream fails, what was
        // accepted before is still settled and its checkpoints released, then the run fails.
        yield* Effect.gen(function* () {
          const inputExit = yield* Effect.exit(readInput)
          const drained = yield* drain
          const recorded = laneFailure
          const causes = [
            Exit.isFailure(inputExit) ? inputExit.cause : undefined,
            recorded,
            ...drained.filter((cause) => recorded === undefined || !Equal.equals(cause, recorded))
          ].filter((cause) => cause !== undefined)
          const [first, ...rest] = causes
          if (first === undefined) {
            yield* output.offer({ _tag: "Finished", summary: stats.summary() })
            return yield* output.end
          }
          yield* output.offer({ _tag: "Stopped", summary: stats.summary() })
          yield* output.failCause(rest.reduce<Cause.Cause<E | PipelineError>>((all, cause) => Cause.sequential(all, cause), first))
        }).pipe(
          Effect.catchAllCause((cause) => output.failCause(cause)),
          Effect.forkScoped
        )
        return Mailbox.toStream(output)
      })
    )

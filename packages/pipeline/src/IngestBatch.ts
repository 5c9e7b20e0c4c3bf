/**
 * One batch through Salesforce, until every row is committed or durably rejected.
 *
 * A job is created, its CSV uploaded once, closed and awaited. Rows Salesforce refused for
 * good go to the reject sink. Rows refused for a passing reason (`UNABLE_TO_LOCK_ROW`…) and,
 * after a job ends Failed or Aborted, the rows it never attempted (`unprocessedrecords`) are
 * sent again in follow-up jobs (`RetryRows`: grouped by parent reference so rows of one parent
 * do not contend for its lock, or spooled to a temp file when there are many); only when the
 * attempts run out are they rejected, or sooner, once some rows are saved, when a follow-up
 * cannot be sent (`BatchOutcome.failure`). An upload that breaks off is sent again in a new job. A
 * row no result file names, when the files stay short of the job's counts, is rejected as
 * `RESULT_MISSING`. Nothing is dropped.
 */
import { BulkClient, type IngestJob, PipedUpload, ResultRows } from "@sfdc-activation/bulk-client"
import { RejectedRecord, RejectSink } from "@sfdc-activation/rejects-s3"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { PipelineError } from "./PipelineError.js"
import type { Readable } from "node:stream"
import { type RejectedRows, RowCounts, TakenRows } from "./RejectedRows.js"
import * as RetryRows from "./RetryRows.js"
import type { SyncStats } from "./SyncStats.js"

/** Where a batch goes, and on whose behalf. */
export interface BatchTarget {
  readonly object: string
  readonly operation: IngestJob.Operation
  readonly externalIdFieldName?: string | undefined
  readonly stream: RejectedRecord.StreamDescriptor
  readonly syncId?: string | undefined
}

export interface IngestOptions {
  /** Jobs tried for one body when its upload breaks off (default 3). */
  readonly maxUploadAttempts: number
  /** Follow-up jobs for rows that failed transiently or were never processed (default 2; more while each makes progress). */
  readonly maxRowRetries: number
  readonly poll?: BulkClient.PollOptions | undefined
  /** How long an interrupted run tries to abort its open job (default `abortGracePeriod`). */
  readonly abortGracePeriod?: Duration.DurationInput | undefined
  /** CSV bytes of rows to send again held in memory before they go to a temp file (default 4 MiB). */
  readonly retryMemoryLimitBytes?: number | undefined
  /** Where rows to send again are spooled (default: the OS temp directory). */
  readonly tempDir?: string | undefined
  /**
   * Whether the run was asked to stop: then no job is created or closed (one uploaded is
   * aborted) and no follow-up starts; the batch fails with `Stopped`, its rows unsettled.
   */
  readonly stopped?: (() => boolean) | undefined
  /**
   * Pause before the first follow-up job, doubled for each next one (default `defaultRowRetryDelay`):
   * a row another process holds locked is likely still locked the same instant.
   */
  readonly rowRetryDelay?: Duration.DurationInput | undefined
  /**
   * A result set listing fewer rows than the job's counts is read again up to this many times
   * (default 4), after `resultsRereadDelay` (default 1 second) doubled each time.
   */
  readonly resultsRereads?: number | undefined
  readonly resultsRereadDelay?: Duration.DurationInput | undefined
  /**
   * After a close and an abort that both failed, the pause before asking again about a job
   * Salesforce does not answer for (default `BulkClient.unansweredPollPause`).
   */
  readonly unansweredJobPause?: Duration.DurationInput | undefined
}

export const defaultIngestOptions: IngestOptions = { maxUploadAttempts: 3, maxRowRetries: 2 }

/**
 * Follow-up jobs sent past `maxRowRetries` as long as each gets some of its rows through (a job
 * that keeps failing part way, rows locked by another process): rows are given up on only once a
 * follow-up makes no progress. Bounded, as a job that saves one row at a time would go on for long.
 */
export const maxProgressingFollowUps = 8

export const defaultRowRetryDelay = Duration.seconds(1)
const defaultResultsRereads = 4
const defaultResultsRereadDelay = Duration.seconds(1)

/** Row errors worth another attempt in a later job. */
export const transientStatusCodes: ReadonlySet<string> = new Set([
  "UNABLE_TO_LOCK_ROW",
  "SERVER_UNAVAILABLE",
  "REQUEST_RUNNING_TOO_LONG",
  "API_TEMPORARILY_UNAVAILABLE"
])

/**
 * How long an interrupted run tries to abort its open job. Finalizers cannot be interrupted,
 * so without a bound a dead network would hold the shutdown for the whole retry schedule; a job
 * left Open is never processed anyway, and Salesforce drops it after 24 hours.
 */
export const abortGracePeriod = Duration.seconds(10)

/**
 * Runs `effect` on a daemon fiber and waits for it at most `limit`. Usable inside finalizers
 * and interrupt handlers, where an `Effect.timeout` could not interrupt what it waits for.
 */
const awaitAtMost = <A, E>(effect: Effect.Effect<A, E>, limit: Duration.DurationInput): Effect.Effect<void> =>
  Effect.flatMap(Effect.forkDaemon(effect), (fiber) =>
    Effect.async<void>((resume) => {
      let resumed = false
      const finish = () => {
        if (resumed) return
        resumed = true
        clearTimeout(timer)
        resume(Effect.void)
      }
      const timer = setTimeout(finish, Duration.toMillis(Duration.decode(limit)))
      fiber.addObserver(finish)
    })
  )

/** A result set of a finished job being read: the rows taken so far, and what to do with more. */
interface ResultSetReading {
  readonly kind: "failedResults" | "unprocessedrecords"
  readonly taken: TakenRows
  readonly take: (rows: ReadonlyArray<ResultRows.ResultRow>) => Effect.Effect<void, PipelineError>
}

/** The bytes an upload body sends, read again. */
const sentBytes = (body: BulkClient.UploadBody): Stream.Stream<Uint8Array, unknown> =>
  body instanceof PipedUpload.NodeStreamBody
    ? Stream.unwrap(Effect.map(body.open, (readable) => Stream.fromAsyncIterable(bufferChunks(readable), (cause) => cause)))
    : body

async function* bufferChunks(readable: Readable): AsyncGenerator<Uint8Array> {
  for await (const chunk of readable) yield chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk))
}

/** Rejected rows are written to the sink this many at a time. */
const rejectChunkSize = 1_000

/** What happened to one batch. */
export interface BatchOutcome {
  readonly rows: number
  readonly created: number
  readonly updated: number
  readonly deleted: number
  readonly rejected: number
  readonly rejectedByStatusCode: Readonly<Record<string, number>>
  readonly jobs: number
  readonly bytesUploaded: number
  /**
   * Why rows waiting for a follow-up job were rejected rather than sent again: the run was asked
   * to stop, or the follow-up could not be sent. The batch is settled; the run fails with it.
   */
  readonly failure?: PipelineError | undefined
}

const sfColumns = new Set(["sf__Id", "sf__Error", "sf__Created"])

/**
 * Result rows as sent: without Salesforce's `sf__` result columns. The columns are those of
 * the set's first row (every row of a result set has the same).
 */
const sentRows = () => {
  let columns: ReadonlyArray<string> | undefined
  return (resultRow: ResultRows.ResultRow): Record<string, string> => {
    columns ??= Object.keys(resultRow).filter((column) => !sfColumns.has(column))
    const row: Record<string, string> = {}
    for (const column of columns) row[column] = resultRow[column] ?? ""
    return row
  }
}

const emptyOutcome = (rows: number): BatchOutcome => ({
  rows,
  created: 0,
  updated: 0,
  deleted: 0,
  rejected: 0,
  rejectedByStatusCode: {},
  jobs: 0,
  bytesUploaded: 0
})

/** An upload's size for a log line: `812 B`, `45.2 KiB`, `98.7 MiB`. */
const sizeText = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`

/** Sends one batch body and handles every row of it. */
export const ingestBatch = (
  target: BatchTarget,
  body: { readonly content: BulkClient.UploadBody; readonly bytes: number; readonly rowCount: number },
  options: IngestOptions = defaultIngestOptions,
  stats?: SyncStats,
  /** Told every rejected row, when the caller needs to find them in the batch. */
  rejectedRows?: RejectedRows
): Effect.Effect<BatchOutcome, PipelineError, BulkClient.BulkClient | RejectSink.RejectSink> =>
  Effect.scoped(Effect.gen(function* () {
    const bulk = yield* BulkClient.BulkClient
    const sink = yield* RejectSink.RejectSink
    const outcome = { ...emptyOutcome(body.rowCount), rejectedByStatusCode: {} as Record<string, number> }
    const fail = (cause: unknown, detail: string) => new PipelineError({ reason: "SalesforceFailed", detail, cause })
    /** Nothing more goes to Salesforce once the run is asked to stop: its rows stay unsettled, their checkpoints held. */
    const whenStopped = Effect.suspend(() =>
      options.stopped?.() === true
        ? Effect.fail(new PipelineError({ reason: "Stopped", detail: `the run was asked to stop before all of a batch of ${target.object} was in Salesforce` }))
        : Effect.void
    )

    const reject = (records: ReadonlyArray<RejectedRecord.RejectedRecord>) =>
      Effect.gen(function* () {
        if (records.length === 0) return
        yield* sink.write(records).pipe(Effect.mapError((cause) => new PipelineError({ reason: "RejectSinkFailed", detail: cause.message, cause })))
        outcome.rejected += records.length
        rejectedRows?.add(records.map((record) => record.row))
        for (const record of records) {
          outcome.rejectedByStatusCode[record.statusCode] = (outcome.rejectedByStatusCode[record.statusCode] ?? 0) + 1
        }
      })

    /** A refused row as a reject; `rejectedAt` is an ISO time, the same for a job's rejects. */
    const rejectedRecord = (
      row: Readonly<Record<string, string>>,
      sfError: string,
      jobId: string,
      sfId: string | undefined,
      rejectedAt: string,
      parsed: RejectedRecord.SfError = RejectedRecord.parseSfError(sfError)
    ) => ({
      row,
      ...(sfId === undefined || sfId === "" ? {} : { sfId }),
      sfError,
      statusCode: parsed.statusCode,
      message: parsed.message,
      fields: parsed.fields,
      jobId,
      object: target.object,
      operation: target.operation,
      stream: target.stream,
      ...(target.syncId === undefined ? {} : { syncId: target.syncId }),
      rejectedAt
    })

    /**
     * Whether a job whose close failed, and could not be aborted, was taken up by Salesforce (the
     * close's answer lost): its state is asked for, again after a pause for as long as Salesforce
     * does not answer (up to the poll timeout), since a job it took up commits its rows whatever
     * the client does, and failing the batch would have them sent again. A job still open (the
     * close never arrived) is aborted and, like one found aborted, fails with the close's error.
     */
    const closedOrNot = <E>(jobId: string, closeError: E) =>
      Effect.gen(function* () {
        const pause = Duration.decode(options.unansweredJobPause ?? BulkClient.unansweredPollPause)
        const giveUpAt = (yield* Clock.currentTimeMillis) + Duration.toMillis(options.poll?.timeout ?? BulkClient.defaultPollTimeout)
        for (;;) {
          const info = yield* Effect.either(bulk.jobInfo(jobId))
          if (info._tag === "Right") {
            const state = info.right.state
            if (state === "Aborted") return yield* Effect.fail(closeError)
            if (state !== "Open") return info.right
            if ((yield* Effect.either(bulk.abortJob(jobId)))._tag === "Right") return yield* Effect.fail(closeError)
          } else if (BulkClient.unansweredPause(info.left) === undefined) return yield* Effect.fail(closeError)
          if ((yield* Clock.currentTimeMillis) >= giveUpAt) return yield* Effect.fail(closeError)
          yield* Effect.sleep(pause)
        }
      })

    /** Closes sent so far: a job whose close was never sent cannot have saved a row. */
    let closesSent = 0

    /** One job for `payload`: created, uploaded, closed, awaited. An open job is aborted if interrupted. */
    const runJob = (payload: BulkClient.UploadBody, bytes: number, rows: number) =>
      Effect.gen(function* () {
        yield* whenStopped
        const job = yield* bulk.createJob({
          object: target.object,
          operation: target.operation,
          ...(target.externalIdFieldName === undefined ? {} : { externalIdFieldName: target.externalIdFieldName })
        })
        outcome.jobs++
        stats?.jobStarted(target.stream.name)
        let closed = false
        return yield* Effect.gen(function* () {
          yield* bulk.upload(job.id, payload, bytes)
          outcome.bytesUploaded += bytes
          // a job closed is processed whatever follows: one not yet closed is aborted instead
          yield* Effect.tapError(whenStopped, () => awaitAtMost(bulk.abortJob(job.id), options.abortGracePeriod ?? abortGracePeriod))
          closesSent++
          // A close that keeps failing leaves no job open (aborted). One the close did reach cannot
          // be aborted once Salesforce has taken it up: it runs on and is awaited like any other,
          // rather than failed and its rows sent again by the next run.
          const closedInfo = yield* Effect.catchAll(bulk.closeJob(job.id), (error) =>
            Effect.gen(function* () {
              if ((yield* Effect.either(bulk.abortJob(job.id)))._tag === "Right") return yield* Effect.fail(error)
              const info = yield* closedOrNot(job.id, error)
              yield* Effect.logWarning(`job ${job.id}: its close went unanswered, but Salesforce took it up (${info.state}): awaited`)
              return info
            })
          )
          closed = true
          const closedAt = yield* Clock.currentTimeMillis
          yield* Effect.logInfo(`job ${job.id}: ${target.operation} of ${rows} rows (${sizeText(bytes)}) sent to Salesforce`)
          const info = yield* bulk.awaitJob(job.id, { ...options.poll, expectedRecords: rows, seen: closedInfo })
          const seconds = ((yield* Clock.currentTimeMillis) - closedAt) / 1000
          yield* Effect.logInfo(
            `job ${job.id}: ${info.state} after ${seconds.toFixed(1)} s, ${info.numberRecordsProcessed ?? 0} rows processed, ${info.numberRecordsFailed ?? 0} failed` +
              (info.errorMessage ? `: ${info.errorMessage}` : "")
          )
          return info
        }).pipe(
          Effect.onInterrupt(() =>
            closed
              ? Effect.logWarning(`interrupted while job ${job.id} runs in Salesforce; its rows will be sent again on the next run`)
              : awaitAtMost(bulk.abortJob(job.id), options.abortGracePeriod ?? abortGracePeriod)
          ),
          Effect.ensuring(Effect.sync(() => stats?.jobFinished(target.stream.name)))
        )
      })

    /** Runs `payload`, starting a new job when an upload breaks off. */
    const runWithUploadRetries = (payload: BulkClient.UploadBody, bytes: number, rows: number) =>
      runJob(payload, bytes, rows).pipe(
        Effect.retry({
          times: Math.max(0, options.maxUploadAttempts - 1),
          while: (error) => error._tag === "BulkApiError" && error.reason === "UploadFailed"
        }),
        Effect.mapError((cause) => (cause instanceof PipelineError ? cause : fail(cause, cause.message)))
      )

    /** One pass over a result set: rows not taken before go to `take`; `listed` is told every row's sent part. */
    const readPass = (jobId: string, reading: ResultSetReading, listed?: RowCounts) =>
      Effect.suspend(() => {
        const before = reading.taken.size === 0 ? undefined : reading.taken.counts()
        const sentRow = sentRows()
        return bulk.results(jobId, reading.kind).pipe(
          Stream.grouped(rejectChunkSize),
          Stream.runForEach((chunk) => {
            const fresh: Array<ResultRows.ResultRow> = []
            for (const row of Chunk.toReadonlyArray(chunk)) {
              listed?.add(sentRow(row))
              if (before?.remove(row) === true) continue
              reading.taken.add(row)
              fresh.push(row)
            }
            return reading.take(fresh)
          }),
          Effect.mapError((cause) => (cause._tag === "PipelineError" ? cause : fail(cause, cause.message)))
        )
      })

    /**
     * Reads every row of a result set of a finished job: as many as the job's counts say.
     * Salesforce may list a job's results a moment after it reports the job finished; a set found
     * short is read again after a pause, with the counts (they may be the stale side), and only
     * rows not taken before (found by their values, counted) are taken. Gives the latest counts,
     * and what is missing when the set stays short.
     */
    const readResults = (info: IngestJob.JobInfo, reading: ResultSetReading, expectedOf: (info: IngestJob.JobInfo) => number) =>
      Effect.gen(function* () {
        let latest = info
        const rereads = options.resultsRereads ?? defaultResultsRereads
        const delay = Duration.decode(options.resultsRereadDelay ?? defaultResultsRereadDelay)
        for (let read = 0; ; read++) {
          yield* readPass(info.id, reading)
          const expected = expectedOf(latest)
          const listed = reading.taken.size
          if (listed >= expected) return { latest, short: undefined }
          if (read >= rereads) return { latest, short: `counts ${expected} rows in ${reading.kind} but lists ${listed} after ${read + 1} reads` }
          yield* Effect.logWarning(`job ${info.id}: ${reading.kind} lists ${listed} of ${expected} rows; reading it again`)
          yield* Effect.sleep(Duration.times(delay, 2 ** read))
          latest = yield* Effect.mapError(bulk.jobInfo(info.id), (cause) => fail(cause, cause.message))
        }
      })

    /**
     * A job whose result files stay short of its counts (Salesforce records no results past the
     * org's daily batch allocation, for one). The sets are read once more (rows listed by now are
     * handled like the others), then each row the job was sent that no set names is kept: sent again when
     * the job processed nothing, else rejected as `RESULT_MISSING` (it may have been saved: sent
     * blindly again, an insert would be made twice). Gives the rows the successful set lists.
     */
    const settleUnaccounted = (
      info: IngestJob.JobInfo,
      payload: BulkClient.UploadBody,
      shortfall: string,
      readings: ReadonlyArray<ResultSetReading>,
      retry: RetryRows.RetryRows,
      rejectedAt: string
    ) =>
      Effect.gen(function* () {
        const jobId = info.id
        const processedNothing = (info.numberRecordsProcessed ?? 0) === 0
        yield* Effect.logWarning(
          `job ${jobId}: Salesforce ${shortfall}; the rows no result names are ${processedNothing ? "sent again" : "rejected as RESULT_MISSING"}`
        )
        const listed = new RowCounts()
        for (const reading of readings) yield* readPass(jobId, reading, listed)
        const succeeded = { rows: 0, created: 0 }
        const successRow = sentRows()
        yield* bulk.results(jobId, "successfulResults").pipe(
          Stream.runForEach((row) =>
            Effect.sync(() => {
              succeeded.rows++
              if (row["sf__Created"] === "true") succeeded.created++
              listed.add(successRow(row))
            })
          ),
          Effect.mapError((cause) => fail(cause, cause.message))
        )
        const sfError = processedNothing
          ? `UNPROCESSED:Salesforce ${shortfall} of job ${jobId}, which processed no row: --`
          : `RESULT_MISSING:Salesforce ${shortfall} of job ${jobId}; no result names this row, which may or may not be saved: --`
        yield* ResultRows.parse(sentBytes(payload), { onError: (cause) => fail(cause, `cannot read the rows of job ${jobId} again`) }).pipe(
          Stream.filter((row) => !listed.remove(row)),
          Stream.grouped(rejectChunkSize),
          Stream.runForEach((chunk) => {
            const rows = Chunk.toReadonlyArray(chunk)
            return processedNothing
              ? retry.add(rows.map((row) => ({ row, sfError })))
              : reject(rows.map((row) => rejectedRecord(row, sfError, jobId, undefined, rejectedAt)))
          })
        )
        return succeeded
      })

    /**
     * Reads a finished job's results: rejects what failed for good, returns what to send again.
     * A job that completed every row it was sent without a failure has no results to read.
     */
    const settleJob = (info: IngestJob.JobInfo, sent: number, payload: BulkClient.UploadBody) =>
      Effect.gen(function* () {
        const retry = yield* RetryRows.make({ memoryLimitBytes: options.retryMemoryLimitBytes, tempDir: options.tempDir })
        const rejectedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
        const processed = info.numberRecordsProcessed ?? 0
        const completedAll = info.state === "JobComplete" && processed >= sent
        if (completedAll && (info.numberRecordsFailed ?? 0) === 0) {
          yield* countSucceeded(info.id, processed, 0)
          return { retry, jobId: info.id }
        }
        const sentRow = sentRows()
        let alreadyDeleted = 0
        const failedRows: ResultSetReading = {
          kind: "failedResults",
          taken: new TakenRows(),
          take: (rows) => {
            const refused: Array<RejectedRecord.RejectedRecord> = []
            const again: Array<RetryRows.RetryRow> = []
            for (const resultRow of rows) {
              const sfError = resultRow["sf__Error"] ?? ""
              const sfId = resultRow["sf__Id"] === "" ? undefined : resultRow["sf__Id"]
              const row = sentRow(resultRow)
              const parsed = RejectedRecord.parseSfError(sfError)
              if (transientStatusCodes.has(parsed.statusCode)) again.push({ row, sfError, sfId })
              // a delete of a record already in the recycle bin has what it asked for (a delete
              // sent again after a rerun, or an Id given twice): deleted, not refused
              else if (target.operation === "delete" && parsed.statusCode === "ENTITY_IS_DELETED") alreadyDeleted++
              else refused.push(rejectedRecord(row, sfError, info.id, sfId, rejectedAt, parsed))
            }
            return Effect.zipRight(retry.add(again), reject(refused))
          }
        }
        const readings = [failedRows]
        const failedRead = yield* readResults(info, failedRows, (latest) => latest.numberRecordsFailed ?? 0)
        let latest = failedRead.latest
        const short = failedRead.short === undefined ? [] : [failedRead.short]
        let unprocessedListed: TakenRows | undefined
        if (!completedAll) {
          const reason = `UNPROCESSED:${info.errorMessage ?? `the job ended ${info.state} after ${processed} of ${sent} rows`}: --`
          const unprocessedRow = sentRows()
          const unprocessedRows: ResultSetReading = {
            kind: "unprocessedrecords",
            taken: new TakenRows(),
            take: (rows) => retry.add(rows.map((row) => ({ row: unprocessedRow(row), sfError: reason })))
          }
          readings.push(unprocessedRows)
          unprocessedListed = unprocessedRows.taken
          const unprocessedRead = yield* readResults(latest, unprocessedRows, (counted) => Math.max(0, sent - (counted.numberRecordsProcessed ?? 0)))
          latest = unprocessedRead.latest
          if (unprocessedRead.short !== undefined) short.push(unprocessedRead.short)
          // counts read again meanwhile may say more rows failed than the failed set gave
          if (failedRead.short === undefined && (latest.numberRecordsFailed ?? 0) > failedRows.taken.size) {
            const again = yield* readResults(latest, failedRows, (counted) => counted.numberRecordsFailed ?? 0)
            latest = again.latest
            if (again.short !== undefined) short.push(again.short)
          }
        }
        if (short.length > 0) {
          const succeeded = yield* settleUnaccounted(latest, payload, short.join("; "), readings, retry, rejectedAt)
          addSucceeded(succeeded.rows, succeeded.created)
        } else {
          // counts the files prove too low give way to the rows the files list
          const failed = Math.max(latest.numberRecordsFailed ?? 0, failedRows.taken.size)
          const unprocessed = unprocessedListed?.size ?? 0
          yield* countSucceeded(info.id, Math.min(latest.numberRecordsProcessed ?? 0, sent - unprocessed), failed)
        }
        if (alreadyDeleted > 0) {
          outcome.deleted += alreadyDeleted
          yield* Effect.logInfo(`job ${info.id}: ${alreadyDeleted} rows name records already deleted (ENTITY_IS_DELETED): counted as deleted`)
        }
        return { retry, jobId: info.id }
      })

    /** Adds a job's successful rows to the outcome; an upsert reads its results to tell created from updated. */
    const countSucceeded = (jobId: string, processed: number, failed: number) =>
      Effect.gen(function* () {
        const succeeded = Math.max(0, processed - failed)
        const created =
          target.operation === "upsert" && succeeded > 0
            ? yield* bulk.countResults(jobId, "successfulResults", "sf__Created", "true").pipe(Effect.mapError((cause) => fail(cause, cause.message)))
            : 0
        addSucceeded(succeeded, Math.min(created, succeeded))
      })

    /** `succeeded` rows saved; for an upsert, `created` of them created (the rest updated). */
    const addSucceeded = (succeeded: number, created: number) => {
      if (target.operation === "upsert") {
        outcome.created += created
        outcome.updated += succeeded - created
      } else if (target.operation === "insert") outcome.created += succeeded
      else if (target.operation === "update") outcome.updated += succeeded
      else outcome.deleted += succeeded
    }

    /** One job for `rows` rows, run and settled. */
    const sendRows = (payload: BulkClient.UploadBody, bytes: number, rows: number) =>
      Effect.flatMap(runWithUploadRetries(payload, bytes, rows), (info) => settleJob(info, rows, payload))

    /** Whether some row of the batch is settled: saved by Salesforce or rejected. */
    const settledAny = () => outcome.created + outcome.updated + outcome.deleted + outcome.rejected > 0

    /** The rows waiting to be sent again, in one follow-up job, and the rows that job leaves to send again. */
    const followUp = (waiting: { readonly retry: RetryRows.RetryRows; readonly jobId: string }) =>
      Effect.gen(function* () {
        yield* whenStopped
        const again = yield* waiting.retry.body()
        yield* Effect.logInfo(`sending ${again.rows} rows again in a follow-up job`).pipe(
          Effect.annotateLogs({ object: target.object, previousJob: waiting.jobId })
        )
        const next = yield* sendRows(again.content, again.bytes, again.rows)
        return { next, progressed: next.retry.count < again.rows }
      })

    let pending = yield* sendRows(body.content, body.bytes, body.rowCount)
    const rowRetryDelay = Duration.decode(options.rowRetryDelay ?? defaultRowRetryDelay)
    /** Whether the last follow-up job left fewer rows to send again than it was given. */
    let progressed = false
    /** Set when the follow-ups end early: the rows still waiting are rejected, and the run fails with it. */
    let cutShort: PipelineError | undefined
    for (let round = 0; pending.retry.count > 0 && (round < options.maxRowRetries || (progressed && round < options.maxRowRetries + maxProgressingFollowUps)); round++) {
      yield* Effect.sleep(Duration.times(rowRetryDelay, 2 ** Math.min(round, options.maxRowRetries)))
      // Once some rows are saved, a follow-up that cannot be sent (the run asked to stop, or
      // Salesforce failing before the job's close) settles the batch with the rows still waiting
      // rejected, as when the follow-ups run out. Left unsettled, the batch would be sent whole
      // again by the next run, and an insert would make its saved rows twice. A follow-up whose
      // close was sent may have saved its rows: the batch fails, as before.
      const closesBefore = closesSent
      const sent = yield* Effect.catchAll(followUp(pending), (error) =>
        settledAny() && (error.reason === "Stopped" || closesSent === closesBefore) ? Effect.succeed(error) : Effect.fail(error)
      )
      if (sent instanceof PipelineError) {
        cutShort = sent
        break
      }
      yield* pending.retry.remove()
      pending = sent.next
      progressed = sent.progressed
    }
    if (pending.retry.count > 0) {
      const { jobId } = pending
      if (cutShort !== undefined) {
        const why = cutShort.reason === "Stopped" ? "the run was asked to stop" : `the follow-up job could not be sent (${cutShort.detail})`
        yield* Effect.logWarning(`${why}: the ${pending.retry.count} rows waiting to be sent again are rejected with their last error`).pipe(
          Effect.annotateLogs({ object: target.object, previousJob: jobId })
        )
      }
      const rejectedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
      yield* pending.retry.chunks(rejectChunkSize).pipe(
        Stream.runForEach((rows) => reject(rows.map(({ row, sfError, sfId }) => rejectedRecord(row, sfError, jobId, sfId, rejectedAt))))
      )
    }
    return cutShort === undefined ? outcome : { ...outcome, failure: cutShort }
  }))

/**
 * One sync through the pipeline, and the outcome as a `SyncResult`: the plan is described from
 * the org, the source streamed in as records (Airbyte STATE messages as checkpoints, written to
 * `stateFile` when released), rejects stored, thresholds applied. Failures become results, so
 * the other syncs of the run still report.
 */
import { AuthError } from "@sfdc-activation/auth"
import type { CsvEncoder } from "@sfdc-activation/batcher"
import type { BulkClient } from "@sfdc-activation/bulk-client"
import { Pipeline, PipelineError, StreamPlans, type SyncStats } from "@sfdc-activation/pipeline"
import type { RejectSink } from "@sfdc-activation/rejects-s3"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ConfigError } from "../ConfigError.js"
import * as Mapping from "../Mapping.js"
import type { OrgConnections } from "../OrgConnections.js"
import { orgLabel } from "../OrgConnections.js"
import * as Progress from "../Progress.js"
import * as RejectsConfig from "../RejectsConfig.js"
import type { RunContext } from "../RunContext.js"
import * as RunReport from "../RunReport.js"
import type { SourceReader } from "../Sources/Source.js"
import * as Sources from "../Sources/Sources.js"
import * as StateFile from "../StateFile.js"
import * as StateFileLock from "../StateFileLock.js"
import type { LoadedSync } from "../SyncFiles.js"
import { sourceProblems } from "./Plan.js"

/** Pipeline inputs with a payload: the STATE line of an Airbyte source. */
export type Checkpoint = string

/** Whether an error is the user's to fix in the definition (exit 2) rather than a failed run (exit 1). */
export const isConfigProblem = (error: unknown): boolean =>
  error instanceof ConfigError ||
  (error instanceof PipelineError.PipelineError &&
    (error.reason === "InvalidMapping" || error.reason === "UnknownStream" || (error.cause instanceof AuthError.AuthError && isConfigProblem(error.cause)))) ||
  (error instanceof AuthError.AuthError && !error.isTransient)

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Why a sync stopped by a signal failed. */
const stoppedDetail = "stopped by a signal: nothing new was sent, the jobs already in Salesforce were awaited and their rows counted"

/** The base of a result, before anything ran. */
export const emptyResult = (loaded: LoadedSync, status: RunReport.SyncStatus, detail?: string): RunReport.SyncResult => ({
  name: loaded.definition.name,
  object: loaded.definition.object,
  operation: loaded.definition.operation,
  org: orgLabel(loaded.definition.org),
  status,
  recordsIn: 0,
  created: 0,
  updated: 0,
  deleted: 0,
  rejected: 0,
  rejectedLocally: 0,
  rejectedByStatusCode: {},
  rejectSamples: [],
  jobs: 0,
  bytesUploaded: 0,
  detail,
  durationMs: 0
})

/** A result's counts from the pipeline's summary (all zero without one). */
const countsOf = (summary: SyncStats.SyncSummary | undefined) => {
  const totals = summary?.totals
  return {
    recordsIn: totals?.recordsIn ?? 0,
    created: totals?.created ?? 0,
    updated: totals?.updated ?? 0,
    deleted: totals?.deleted ?? 0,
    rejected: totals?.rejected ?? 0,
    rejectedLocally: totals?.rejectedLocally ?? 0,
    rejectedByStatusCode: totals?.rejectedByStatusCode ?? {},
    jobs: totals?.jobs ?? 0,
    bytesUploaded: totals?.bytesUploaded ?? 0
  }
}

/** The plans of a run: the sync's own stream, and any extra streams (replay) keyed by name. */
export const planFor = (loaded: LoadedSync, streamName: string, columns: ReadonlyArray<CsvEncoder.Column>, nullPolicy?: CsvEncoder.NullPolicy) => {
  const definition = loaded.definition
  return StreamPlans.plan({
    stream: { name: streamName },
    object: definition.object,
    operation: definition.operation,
    externalIdFieldName: definition.operation === "upsert" ? definition.externalIdField : undefined,
    columns,
    nullPolicy: nullPolicy ?? definition.nulls,
    validate: definition.validate,
    serial: definition.serial
  })
}

/**
 * Runs `input` through the pipeline for `plans` against the sync's org and rejects location,
 * and folds the outcome into a result.
 */
export const runPipeline = <P>(
  loaded: LoadedSync,
  context: RunContext,
  connections: OrgConnections,
  runId: string,
  build: Effect.Effect<
    { readonly plans: ReadonlyMap<string, Pipeline.StreamPlan>; readonly input: Stream.Stream<Pipeline.PipelineInput<P>, unknown, RejectSink.RejectSink | BulkClient.BulkClient> },
    unknown,
    BulkClient.BulkClient | Scope.Scope
  >,
  onCheckpoint: (checkpoint: P) => Effect.Effect<void, unknown>
): Effect.Effect<RunReport.SyncResult> => {
  const definition = loaded.definition
  const started = Date.now()
  const progress = context.progress
  /** The pipeline's last summary: at its end, or when it stopped on a failure. */
  let settled: SyncStats.SyncSummary | undefined
  const location = RejectsConfig.locationOf(definition.rejects, runId)
  // shown with its ${VAR}s as written: a value from the environment would be masked in every output
  const rejectsLocation = location === undefined ? undefined : loaded.asWritten(["rejects"], location)
  return Effect.gen(function* () {
    progress.start(definition.name, started)
    yield* progress.ticker()
    const connection = yield* connections.get(definition.org)
    const services = Layer.provideMerge(
      Layer.merge(Progress.instrumentBulk(progress), Progress.instrumentRejects(progress)),
      Layer.merge(Layer.succeedContext(connection), RejectsConfig.layer(definition.rejects, runId, context.baseDir))
    )
    return yield* Effect.gen(function* () {
      const { plans, input } = yield* build
      // A checkpoint that cannot be kept (the state file) stops the run as a signal would: the
      // jobs in Salesforce are awaited and counted, nothing new is sent, then its error stands.
      const stop = yield* Deferred.make<void>()
      let checkpointFailure: { readonly error: unknown } | undefined
      const keep = (checkpoint: P) =>
        checkpointFailure !== undefined
          ? Effect.void
          : Effect.catchAll(onCheckpoint(checkpoint), (error) =>
              Effect.zipRight(
                Effect.sync(() => void (checkpointFailure = { error })),
                Deferred.succeed(stop, undefined)
              )
            )
      yield* input.pipe(
        Stream.mapChunks((chunk) => {
          progress.addInput(chunk)
          return chunk
        }),
        Pipeline.run(plans, {
          maxConcurrentJobs: definition.concurrency,
          maxBatchRows: definition.batchSize,
          syncId: runId,
          stop: Effect.race(Deferred.await(stop), context.stop)
        }),
        Stream.runForEach((event) => (event._tag === "CheckpointReleased" ? keep(event.payload) : Effect.sync(() => void (settled = event.summary)))),
        Effect.catchAll((error) => Effect.fail(checkpointFailure === undefined ? error : checkpointFailure.error))
      )
      if (checkpointFailure !== undefined) return yield* Effect.fail(checkpointFailure.error)
    }).pipe(Effect.provide(services))
  }).pipe(
    Effect.scoped,
    Effect.map((): RunReport.SyncResult => {
      const counts = countsOf(settled)
      const crossed = RunReport.thresholdCrossed(definition.failWhen, counts)
      return {
        ...emptyResult(loaded, crossed === undefined ? "succeeded" : "thresholdExceeded", crossed),
        ...counts,
        rejectSamples: [...progress.rejectSamples],
        rejectsLocation: counts.rejected > 0 ? rejectsLocation : undefined,
        durationMs: Date.now() - started
      }
    }),
    Effect.catchAllCause((cause) =>
      Effect.gen(function* () {
        const error = Option.getOrUndefined(Cause.failureOption(cause))
        const detail = context.redactor.scrub(
          error === undefined
            ? "the sync was interrupted or crashed"
            : error instanceof PipelineError.PipelineError && error.reason === "Stopped"
              ? stoppedDetail
              : errorMessage(error)
        )
        yield* Effect.logError(`sync ${definition.name} failed: ${detail}`)
        // What was settled before the failure stands: its counts and where its rejects are
        // (nowhere to replay from when storing them is what failed).
        const counts = countsOf(settled)
        const storeFailed = error instanceof PipelineError.PipelineError && error.reason === "RejectSinkFailed"
        return {
          ...emptyResult(loaded, isConfigProblem(error) ? "configError" : "failed", detail),
          ...counts,
          rejectSamples: [...progress.rejectSamples],
          rejectsLocation: counts.rejected > 0 && !storeFailed ? rejectsLocation : undefined,
          ...(storeFailed && counts.rejected > 0 ? { rejectsStoreFailed: true } : {}),
          durationMs: Date.now() - started
        }
      })
    ),
    Effect.ensuring(Effect.sync(() => progress.finish())),
    Effect.annotateLogs({ sync: definition.name })
  )
}

/**
 * Fails when a mapping reads a column the source does not have (where the source knows its
 * columns): every row would miss that value, so the sync does not start.
 */
const sourceColumnsMapped = (loaded: LoadedSync, columns: ReadonlyArray<CsvEncoder.Column>, reader: SourceReader) =>
  Effect.gen(function* () {
    const known = yield* Effect.orElseSucceed(reader.columns, () => undefined)
    if (known === undefined) return
    if (known.length === 0) return yield* Effect.logWarning("the source file is empty (not even a header row): no rows to read")
    const [missing] = sourceProblems(columns, known, () => undefined)
    if (missing === undefined) return
    const position = loaded.positionOf(["mappings", missing.column])
    return yield* new ConfigError({ file: loaded.file, line: position?.line, column: position?.column, detail: `${missing.reason}: ${missing.message}` })
  })

/** One sync of a `sync` run. */
export const runSync = (loaded: LoadedSync, context: RunContext, connections: OrgConnections, runId: string): Effect.Effect<RunReport.SyncResult> => {
  const definition = loaded.definition
  const columns = Mapping.columns(definition)
  const reader = Sources.reader(definition.source, { baseDir: context.baseDir, stdin: context.stdin })
  const stateFile = definition.source.type === "airbyte" ? definition.source.stateFile : undefined
  const stateFilePath = stateFile === undefined ? undefined : StateFile.resolvePath(context.baseDir, stateFile)
  const states = StateFile.make()
  const checks = Effect.zipRight(
    stateFilePath === undefined ? Effect.void : Effect.zipRight(StateFileLock.hold(stateFilePath), states.load(stateFilePath)),
    sourceColumnsMapped(loaded, columns, reader)
  )
  /** Mapped source columns no row has held yet (a JSONL key renamed upstream leaves its field unchanged in every row). */
  const unseen = new Set(columns.flatMap((column) => ("key" in column.source ? [column.source.key] : [])))
  let rows = 0
  const build = Effect.map(Effect.zipRight(checks, planFor(loaded, definition.name, columns)), (plan) => ({
    plans: new Map([[definition.name, plan]]),
    input: reader.items.pipe(
      Stream.map((item): Pipeline.PipelineInput<Checkpoint> => {
        if (item._tag !== "Row") return Pipeline.checkpoint(item.line)
        rows++
        if (unseen.size > 0) for (const key of unseen) if (Object.hasOwn(item.data, key)) unseen.delete(key)
        return Pipeline.record(definition.name, item.data)
      })
    )
  }))
  return Effect.gen(function* () {
    yield* Effect.log(`sync ${definition.name}: ${definition.source.type} → ${definition.object} ${definition.operation}`)
    const result = yield* runPipeline(loaded, context, connections, runId, build, (line) =>
      stateFilePath === undefined ? Effect.void : states.write(line, stateFilePath)
    )
    if (rows > 0 && unseen.size > 0) {
      const missing = columns.flatMap((column) => ("key" in column.source && unseen.has(column.source.key) ? [`${column.source.key} (${column.column})`] : []))
      yield* Effect.logWarning(`no row held the mapped column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}: ${missing.length === 1 ? "its field was" : "their fields were"} left unchanged in every record; check the source's column names`)
    }
    if (stateFile !== undefined && definition.rejects === "none" && result.rejected > 0) {
      yield* Effect.logWarning(
        `${result.rejected} rejected row${result.rejected === 1 ? " was" : "s were"} dropped (rejects: none) and ${stateFile} moved past ${result.rejected === 1 ? "it" : "them"}: the next run does not read ${result.rejected === 1 ? "it" : "them"} again; set rejects: to keep ${result.rejected === 1 ? "it" : "them"} for replay`
      )
    }
    const written = [
      result.created > 0 ? `${result.created} created` : undefined,
      result.updated > 0 ? `${result.updated} updated` : undefined,
      result.deleted > 0 ? `${result.deleted} deleted` : undefined
    ].filter((part) => part !== undefined)
    yield* Effect.log(`sync ${definition.name} ${result.status}: ${[`${result.recordsIn} read`, ...written, `${result.rejected} rejected`].join(", ")}`)
    return result
  })
}

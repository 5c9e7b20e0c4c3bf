/**
 * `replay --from LOCATION`: resubmits the rejected records a run stored, sync by sync, after
 * the data or the org was fixed, and reports what still fails (stored again, under the replay's
 * own run id). Records Salesforce refused hold the row as it was sent (field columns) and go
 * back as is; records refused before sending hold the source row and go through the sync's
 * mapping again.
 */
import type { CsvEncoder } from "@sfdc-activation/batcher"
import { Pipeline } from "@sfdc-activation/pipeline"
import { type RejectedRecord, RejectReader } from "@sfdc-activation/rejects-s3"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { ConfigError } from "../ConfigError.js"
import * as Mapping from "../Mapping.js"
import * as RejectsConfig from "../RejectsConfig.js"
import type { RunContext } from "../RunContext.js"
import type * as RunReport from "../RunReport.js"
import type { LoadedSync } from "../SyncFiles.js"
import { runAll } from "./Sync.js"
import { type Checkpoint, planFor, runPipeline } from "./SyncRun.js"

/** The Bulk API's "set this field to null" cell. */
const nullCell = "#N/A"

/** The pipeline stream of rows that go back as they were sent. */
export const asSentStream = (name: string): string => `${name}#as-sent`

/** A stored record as pipeline input: as sent (field columns), or the source row to map again. */
export const toInput = (name: string, record: RejectedRecord.RejectedRecord): Pipeline.PipelineInput<Checkpoint> => {
  const data: Record<string, unknown> = {}
  if (record.jobId === undefined || record.jobId === "") {
    for (const [key, value] of Object.entries(record.row)) data[key] = value === "" ? null : value
    return Pipeline.record(name, data)
  }
  for (const [key, value] of Object.entries(record.row)) {
    if (value === nullCell) data[key] = null
    else if (value !== "") data[key] = value
  }
  return Pipeline.record(asSentStream(name), data)
}

/** Columns of rows as sent: each field column reads itself. */
export const asSentColumns = (columns: ReadonlyArray<CsvEncoder.Column>): Array<CsvEncoder.Column> =>
  columns.map((column) => ({ column: column.column, source: { key: column.column } }))

export const replay = (
  syncs: ReadonlyArray<LoadedSync>,
  from: string,
  context: RunContext,
  runId: string
): Effect.Effect<Array<RunReport.SyncResult>, ConfigError> =>
  Effect.gen(function* () {
    const location = RejectsConfig.readLocation(
      from,
      context.baseDir,
      syncs.map((sync) => RejectsConfig.resolve(sync.definition.rejects))
    )
    if (typeof location === "string") return yield* new ConfigError({ detail: `--from ${from}: ${location}` })
    const records = (name: string) =>
      RejectReader.read(location).pipe(
        Stream.filter((record) => record.stream.name === name),
        Stream.map((record) => toInput(name, record))
      )
    const counts = yield* RejectReader.read(location).pipe(
      Stream.runFold(new Map<string, number>(), (byName, record) => byName.set(record.stream.name, (byName.get(record.stream.name) ?? 0) + 1)),
      Effect.mapError((error) => new ConfigError({ detail: `--from ${from}: ${error.message}` }))
    )
    const known = new Set(syncs.map((sync) => sync.definition.name))
    const unknown = [...counts.keys()].filter((name) => !known.has(name))
    if (unknown.length > 0) yield* Effect.logWarning(`records of unknown syncs are not replayed: ${unknown.join(", ")}`)
    const withRecords = syncs.filter((sync) => (counts.get(sync.definition.name) ?? 0) > 0)
    if (withRecords.length === 0) return yield* new ConfigError({ detail: `--from ${from}: no rejected records of ${[...known].join(", ")} there` })
    return yield* runAll(
      withRecords.map((sync) => ({ ...sync, definition: { ...sync.definition, after: [] } })),
      context,
      runId,
      (loaded, connections) => {
        const name = loaded.definition.name
        const columns = Mapping.columns(loaded.definition)
        const build = Effect.gen(function* () {
          const own = yield* planFor(loaded, name, columns)
          const asSent = yield* planFor(loaded, name, asSentColumns(columns), "clear")
          return { plans: new Map([[name, own], [asSentStream(name), asSent]]), input: records(name) }
        })
        return Effect.zipLeft(
          runPipeline(loaded, context, connections, runId, build, () => Effect.void),
          Effect.log(`replay of ${name}: ${counts.get(name) ?? 0} records from ${from}`)
        )
      }
    )
  })

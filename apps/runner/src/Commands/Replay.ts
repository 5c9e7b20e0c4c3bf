/**
 * `replay --from LOCATION`: resubmits the rejected records a run stored, sync by sync, after
 * the data or the org was fixed, and reports what still fails (stored again, under the replay's
 * own run id). Each record's row is either as it was sent (field columns), and goes back as
 * is, or the source row, which goes through the sync's mapping again (`RejectedRecord.rowFormOf`).
 * A sync whose object or operation changed since its records were rejected is not replayed.
 */
import { type CsvEncoder, CsvValue } from "@sfdc-activation/batcher"
import { Pipeline } from "@sfdc-activation/pipeline"
import { RejectedRecord, RejectFormat, RejectReader, type RejectSinkError } from "@sfdc-activation/rejects-s3"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as path from "node:path"
import { ConfigError } from "../ConfigError.js"
import * as Mapping from "../Mapping.js"
import * as RejectsConfig from "../RejectsConfig.js"
import type { RunContext } from "../RunContext.js"
import type * as RunReport from "../RunReport.js"
import type { LoadedSync } from "../SyncFiles.js"
import { runAll } from "./Sync.js"
import { planFor, runPipeline } from "./SyncRun.js"

/** The Bulk API's "set this field to null" cell. */
const nullCell = "#N/A"

/** The pipeline stream of rows that go back as they were sent. */
export const asSentStream = (name: string): string => `${name}#as-sent`

/** A source value's cell as a stored row holds it (a value that is not text, written as text). */
const storedCell = (value: unknown): string => (value === null || value === undefined ? "" : (CsvValue.text(value) ?? ""))

/**
 * The values of a row refused before it was sent, to map again: each cell still as it was
 * stored goes back as the exact value (`sourceValues`: a number stays a number), a cell edited
 * by hand since as the text it now holds (an empty one as null), and a key taken out of the
 * row is left out.
 */
const sourceValuesOf = (record: RejectedRecord.RejectedRecord): Record<string, unknown> => {
  const data: Record<string, unknown> = {}
  const exact = record.sourceValues
  for (const [key, cell] of Object.entries(record.row)) {
    const value = exact === undefined || !Object.hasOwn(exact, key) ? undefined : exact[key]
    data[key] = value !== undefined && storedCell(value) === cell ? value : cell === "" ? null : cell
  }
  return data
}

/** The `number`th record of the object `key`, as its format counts (a CSV's header is its record 1). */
const recordLabel = (key: string, number: number): string => (RejectFormat.fromName(key)?.format === "csv" ? `record ${number + 1} (the header is record 1)` : `rejected record ${number}`)

/** How far a replay got in an object: its first `settled.records` records of the sync replaying them. */
export interface Progress {
  readonly key: string
  readonly settled: RejectReader.SettledRecords
}

/** Records of an object between the points of progress a replay marks (and one at the object's end). */
const recordsPerProgressPoint = 100

/** The shortest time between two writes of one object's progress mark (the last one is always written). */
const progressMarkIntervalMillis = 1_000

/**
 * A running digest of an object's records of one sync, in order: a mark's digest of the records
 * it counts as settled tells whether the file was edited there since.
 */
const recordsDigest = () => {
  const hash = createHash("sha256")
  return {
    add: (record: RejectedRecord.RejectedRecord) => void hash.update(`${JSON.stringify([record.row, record.sourceValues ?? null])}\n`),
    digest: () => hash.copy().digest("hex")
  }
}

/** A stored record as pipeline input: as sent (field columns), or the source row to map again. */
export const toInput = (name: string, record: RejectedRecord.RejectedRecord): Pipeline.PipelineInput<Progress> => {
  const data: Record<string, unknown> = {}
  if (RejectedRecord.rowFormOf(record) === "source") return Pipeline.record(name, sourceValuesOf(record))
  // Keyed in lower case: the stored header is spelled as Salesforce spells the field, the
  // mapping as its author did (`title` for Title), and Salesforce matches names in any case.
  for (const [key, value] of Object.entries(record.row)) {
    if (value === nullCell) data[key.toLowerCase()] = null
    else if (value !== "") data[key.toLowerCase()] = value
  }
  return Pipeline.record(asSentStream(name), data)
}

/** Columns of rows as sent: each field column reads its own cell (lower-case key), with its null policy. */
export const asSentColumns = (columns: ReadonlyArray<CsvEncoder.Column>): Array<CsvEncoder.Column> =>
  columns.map(({ column, nullPolicy }) => {
    const source = { key: column.toLowerCase() }
    return nullPolicy === undefined ? { column, source } : { column, source, nullPolicy }
  })

/** The stored records of one sync: how many, the `object operation`s they were rejected under, and the objects holding them. */
interface Stored {
  count: number
  readonly targets: Set<string>
  readonly keys: Set<string>
}

const targetOf = (object: string, operation: string) => `${object} ${operation}`

/** How a replay ended for a sync when every one of its records was settled: loaded, or stored again under the replay's run. */
const settledStatuses = new Set<RunReport.SyncStatus>(["succeeded", "thresholdExceeded"])

export interface ReplayOptions {
  /** Send again the objects an earlier replay already sent (refused otherwise: an insert would be made twice). */
  readonly again?: boolean
}

export const replay = (
  syncs: ReadonlyArray<LoadedSync>,
  from: string,
  context: RunContext,
  runId: string,
  options: ReplayOptions = {}
): Effect.Effect<Array<RunReport.SyncResult>, ConfigError> =>
  Effect.gen(function* () {
    const location = RejectsConfig.readLocation(
      from,
      context.baseDir,
      syncs.map((sync) => RejectsConfig.resolve(sync.definition.rejects))
    )
    if (typeof location === "string") return yield* new ConfigError({ detail: `--from ${from}: ${location}` })
    /** An object of the location, named as `--from` names its folder. */
    const fileOf = (key: string) => (location._tag === "Local" ? path.join(from, key) : `s3://${location.connection.bucket}/${key}`)
    /** A file that cannot be read. */
    const unreadable = (error: RejectSinkError.RejectSinkError) =>
      new ConfigError({ file: error.key === undefined ? from : fileOf(error.key), detail: error.message })
    /** Each sync's mapped columns, in lower case: a row as sent goes back through them alone. */
    const mappedColumns = new Map(
      syncs.map((sync) => [sync.definition.name, new Set(Mapping.columns(sync.definition).map(({ column }) => column.toLowerCase()))])
    )
    /** The fields of a row as sent that its sync does not map: they would be dropped without a word. */
    const unmappedFields = (record: RejectedRecord.RejectedRecord): ReadonlyArray<string> => {
      const columns = mappedColumns.get(record.stream.name)
      if (columns === undefined || RejectedRecord.rowFormOf(record) !== "sent") return []
      return Object.keys(record.row).filter((field) => !columns.has(field.toLowerCase()))
    }
    const found = yield* Effect.mapError(RejectReader.objects(location), unreadable)
    const replayedBefore = options.again === true ? [] : found.filter((object) => object.replayed !== undefined && object.replayed.settled === undefined)
    const keys = found.filter((object) => !replayedBefore.includes(object)).map((object) => object.key)
    const replayMarks = new Map(found.map((object) => [object.key, object.replayed]))
    /** Per object, the records of each sync a replay that did not finish settled: not sent again. */
    const settledBefore = new Map(
      options.again === true ? [] : found.flatMap((object) => (object.replayed?.settled === undefined ? [] : [[object.key, object.replayed.settled] as const]))
    )
    /** How many of its first records of sync `name` object `key` holds that were settled before. */
    const skipped = (key: string, name: string) => settledBefore.get(key)?.[name]?.records ?? 0
    const runs = new Set<string>()
    const stored = new Map<string, Stored>()
    /** The syncs whose records each object holds. */
    const namesByKey = new Map<string, Set<string>>()
    for (const key of keys) {
      const names = new Set<string>()
      namesByKey.set(key, names)
      let recordNumber = 0
      const ordinals = new Map<string, number>()
      const digests = new Map<string, ReturnType<typeof recordsDigest>>()
      const unfinished = replayMarks.get(key)
      /** An object edited where an unfinished replay settled records: skipping by count would skip others. */
      const editedSince = (name: string, what: string) =>
        new ConfigError({
          file: fileOf(key),
          detail: `${what} since replay ${unfinished?.replayRunId ?? "?"}, which did not finish, settled its first ${skipped(key, name)} records of ${name}: a replay would skip other records than those. Restore the file as it was, or pass --again to send all its records again`
        })
      yield* RejectReader.readObjects(location, [key]).pipe(
        Stream.mapError(unreadable),
        Stream.runForEach((record) =>
          Effect.suspend(() => {
            recordNumber++
            const ordinal = (ordinals.get(record.stream.name) ?? 0) + 1
            ordinals.set(record.stream.name, ordinal)
            const skip = skipped(key, record.stream.name)
            if (ordinal <= skip) {
              const digest = digests.get(record.stream.name) ?? recordsDigest()
              digests.set(record.stream.name, digest)
              digest.add(record)
              const expected = settledBefore.get(key)?.[record.stream.name]?.digest
              return ordinal === skip && digest.digest() !== expected ? editedSince(record.stream.name, "its records were edited") : Effect.void
            }
            const unmapped = unmappedFields(record)
            if (unmapped.length > 0) {
              return new ConfigError({
                file: fileOf(key),
                detail: `${recordLabel(key, recordNumber)} holds ${unmapped.join(", ")}, which the sync ${record.stream.name} does not map: map ${unmapped.length === 1 ? "it" : "them"}, or take ${unmapped.length === 1 ? "it" : "them"} out of the row (a row as sent goes back through the mapping's fields alone)`
              })
            }
            runs.add(record.syncId ?? "")
            names.add(record.stream.name)
            const sync = stored.get(record.stream.name) ?? { count: 0, targets: new Set<string>(), keys: new Set<string>() }
            sync.count++
            sync.targets.add(targetOf(record.object, record.operation))
            sync.keys.add(key)
            stored.set(record.stream.name, sync)
            return Effect.void
          })
        )
      )
      for (const name of Object.keys(settledBefore.get(key) ?? {})) {
        if ((ordinals.get(name) ?? 0) < skipped(key, name)) return yield* editedSince(name, "records were taken out of it")
      }
    }
    const earlier = [...new Set(replayedBefore.map(({ replayed }) => (replayed === undefined ? "" : `${replayed.replayRunId} at ${replayed.replayedAt}`)))].join(", ")
    if (replayedBefore.length > 0 && keys.length === 0) {
      return yield* new ConfigError({
        detail: `--from ${from} was already replayed (${earlier}): its records were sent again then, and those still rejected were stored under that replay's own run. Replay that run's rejects, or pass --again to send these again`
      })
    }
    if (replayedBefore.length > 0) {
      yield* Effect.logWarning(`${replayedBefore.length} of the objects at ${from} were already replayed (${earlier}): not sent again (--again sends them again)`)
    }
    const resumed = [...settledBefore.values()].reduce((total, counts) => total + Object.values(counts).reduce((sum, count) => sum + count.records, 0), 0)
    if (resumed > 0) {
      yield* Effect.logWarning(`${resumed} records at ${from} were settled by a replay that did not finish: not sent again (--again sends them again)`)
    }
    // Rows of several runs: a run's rejects and the replay that already sent them again, say.
    // Replaying them all would send some twice (an insert, made twice).
    if (runs.size > 1) {
      const named = [...runs].filter((run) => run !== "").sort()
      return yield* new ConfigError({
        detail: `--from ${from} holds the rejects of ${runs.size} runs (${named.join(", ")}): name one run's folder or prefix, such as ${from.replace(/\/+$/, "")}/${named.at(-1) ?? "<run id>"}`
      })
    }
    const known = new Set(syncs.map((sync) => sync.definition.name))
    const unknown = [...stored.keys()].filter((name) => !known.has(name))
    if (unknown.length > 0) yield* Effect.logWarning(`records of unknown syncs are not replayed: ${unknown.join(", ")}`)
    const withRecords = syncs.filter((sync) => (stored.get(sync.definition.name)?.count ?? 0) > 0)
    if (withRecords.length === 0) return yield* new ConfigError({ detail: `--from ${from}: no rejected records of ${[...known].join(", ")} there` })
    /**
     * The records of sync `name` to send, object by object, past those settled before, with the
     * progress reached after every `recordsPerProgressPoint` of them and at each object's end.
     */
    const records = (name: string) =>
      Stream.flatMap(Stream.fromIterable([...(stored.get(name)?.keys ?? [])]), (key) => {
        const skip = skipped(key, name)
        const digest = recordsDigest()
        let ordinal = 0
        const reached = () => Pipeline.checkpoint<Progress>({ key, settled: { records: ordinal, digest: digest.digest() } })
        return RejectReader.readObjects(location, [key]).pipe(
          Stream.mapChunks((chunk) => {
            const inputs: Array<Pipeline.PipelineInput<Progress>> = []
            for (const record of chunk) {
              if (record.stream.name !== name) continue
              ordinal++
              digest.add(record)
              if (ordinal <= skip) continue
              inputs.push(toInput(name, record))
              if (ordinal % recordsPerProgressPoint === 0) inputs.push(reached())
            }
            return Chunk.unsafeFromArray(inputs)
          }),
          Stream.concat(Stream.suspend(() => Stream.make(reached()))),
          Stream.mapError(unreadable)
        )
      })
    /** Syncs whose every record the replay settled: loaded, or rejected again and stored. */
    const settled = new Set<string>()
    const marked = new Set<string>()
    /**
     * Marks, as each sync ends, the objects whose syncs have all settled their records (a replay
     * stopped later leaves them marked). A sync that failed, or whose records still rejected were
     * stored nowhere, leaves its objects to be replayed again.
     */
    const markSettled = (name: string, result: RunReport.SyncResult) =>
      Effect.gen(function* () {
        const rejectsKept = result.rejected === 0 || (result.rejectsLocation !== undefined && result.rejectsStoreFailed !== true)
        if (!settledStatuses.has(result.status)) return
        if (!rejectsKept) {
          return yield* Effect.logWarning(`${name}: not marked replayed, as the records rejected again were stored nowhere; replaying ${from} again sends all its records again`)
        }
        settled.add(name)
        const done = keys.filter((key) => !marked.has(key) && [...(namesByKey.get(key) ?? [])].every((holder) => settled.has(holder)))
        if (done.length === 0) return
        yield* RejectReader.markReplayed(location, done, { replayRunId: runId, replayedAt: new Date().toISOString() }).pipe(
          Effect.tap(() => Effect.sync(() => done.forEach((key) => marked.add(key)))),
          Effect.catchAll((error) => Effect.logWarning(`could not mark ${from} as replayed (${error.message}): replaying it again sends its records again`))
        )
      })
    /** Per object, the records of each sync settled so far (this replay's, and an unfinished one's before). */
    const progress = new Map<string, Record<string, RejectReader.SettledRecords>>()
    /** Objects whose progress changed since their mark was last written, and when that was. */
    const unwritten = new Set<string>()
    const writtenAt = new Map<string, number>()
    const writeProgress = (key: string) =>
      Effect.suspend(() => {
        const settled = progress.get(key)
        unwritten.delete(key)
        writtenAt.set(key, Date.now())
        if (settled === undefined || marked.has(key)) return Effect.void
        return RejectReader.markReplayed(location, [key], { replayRunId: runId, replayedAt: new Date().toISOString(), settled }).pipe(
          Effect.catchAll((error) => Effect.logWarning(`could not record the replay's progress in ${fileOf(key)} (${error.message}): if it fails, replaying ${from} again sends those records again`))
        )
      })
    /**
     * Notes how far the replay of sync `name` got in an object, once every record before that
     * point is settled, and leaves it beside the object (at most once a second; `flushProgress`
     * writes the rest): a replay that fails later is resumed past them, not sent twice.
     */
    const markProgress = (name: string) => (reached: Progress) =>
      Effect.suspend(() => {
        if (marked.has(reached.key)) return Effect.void
        progress.set(reached.key, { ...settledBefore.get(reached.key), ...progress.get(reached.key), [name]: reached.settled })
        unwritten.add(reached.key)
        return Date.now() - (writtenAt.get(reached.key) ?? 0) >= progressMarkIntervalMillis ? writeProgress(reached.key) : Effect.void
      })
    /** Writes the progress not written yet: a sync ended (or stopped, or failed). */
    const flushProgress = Effect.suspend(() => Effect.forEach([...unwritten], writeProgress, { discard: true }))
    return yield* runAll(
      withRecords.map((sync) => ({ ...sync, definition: { ...sync.definition, after: [] } })),
      context,
      runId,
      (loaded, connections) => {
        const name = loaded.definition.name
        const columns = Mapping.columns(loaded.definition)
        const build = Effect.gen(function* () {
          const own = yield* planFor(loaded, name, columns)
          const now = targetOf(own.object.name, own.operation)
          const other = [...(stored.get(name)?.targets ?? [])].find((target) => target.toLowerCase() !== now.toLowerCase())
          if (other !== undefined) {
            return yield* new ConfigError({ detail: `records of ${name} were rejected under ${other}, but the sync now targets ${now}: not replayed` })
          }
          const asSent = yield* planFor(loaded, name, asSentColumns(columns), "clear")
          const plans = new Map<string, Pipeline.StreamPlan>([[name, own], [asSentStream(name), { ...asSent, rowForm: "sent" }]])
          return { plans, input: records(name) }
        })
        // records rejected again and stored nowhere are not settled for a later replay: no progress then
        const keepsRejects = loaded.definition.rejects !== "none"
        return runPipeline(loaded, context, connections, runId, build, keepsRejects ? markProgress(name) : () => Effect.void).pipe(
          // however the sync ends: interrupted (a second Ctrl-C) too
          Effect.ensuring(flushProgress),
          Effect.tap(() => Effect.log(`replay of ${name}: ${stored.get(name)?.count ?? 0} records from ${from}`)),
          Effect.tap((result) => markSettled(name, result))
        )
      }
    )
  })

/**
 * `plan`: checks every definition against the org's schema — the object and fields exist,
 * source and field types are compatible, fields are createable / updateable for the operation,
 * required fields are mapped for inserts and upserts, the external id is one, constants fit their
 * picklists — counts the source rows, and prints the jobs and API calls the run would cost
 * against the org's remaining `/limits`. Writes nothing. `--offline` reads describes from the
 * committed snapshot instead of the org (no credentials needed) and skips `/limits`.
 */
import { CsvEncoder, FieldMetadata } from "@sfdc-activation/batcher"
import { BulkClient, type OrgMetadata } from "@sfdc-activation/bulk-client"
import { StreamPlans } from "@sfdc-activation/pipeline"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { ConfigError } from "../ConfigError.js"
import * as Mapping from "../Mapping.js"
import * as OrgConnections from "../OrgConnections.js"
import type { RunContext } from "../RunContext.js"
import { ExitCode } from "../RunReport.js"
import type { ColumnKind, SourceColumn } from "../Sources/Source.js"
import * as Sources from "../Sources/Sources.js"
import * as StateFile from "../StateFile.js"
import type { LoadedSync } from "../SyncFiles.js"
import * as Snapshot from "./Snapshot.js"

/** One thing wrong with a definition, where it is written. */
export interface Problem {
  readonly sync: string
  readonly file: string
  readonly line: number | undefined
  readonly column: number | undefined
  readonly reason: string
  readonly message: string
}

export interface Estimate {
  readonly rows: number | undefined
  readonly jobs: number
  readonly bulkBatches: number
  readonly apiCalls: number
}

export interface SyncPlan {
  readonly name: string
  readonly problems: ReadonlyArray<Problem>
  /** Worth a look, not wrong: the run may well succeed (an upsert that only updates). */
  readonly warnings: ReadonlyArray<Problem>
  readonly estimate: Estimate | undefined
}

/** Salesforce counts one Bulk API batch per 10,000 records of an ingest job. */
export const recordsPerBulkBatch = 10_000
/** Calls a job may cost: create, upload, close, about three polls, and up to three result sets (read when rows fail, or to count an upsert's created rows). */
export const apiCallsPerJob = 9
/** The batcher's default upload size. */
const maxJobBytes = 100 * 1024 * 1024
/** A rough CSV cell size, to guess rows per job when batchSize is not set. */
const estimatedBytesPerCell = 24

/** Jobs, Bulk API batches and API calls of loading `rows` rows of `columns` columns. */
export const estimate = (rows: number | undefined, columns: number, batchSize: number | undefined, describeCalls: number): Estimate => {
  const bytesPerRow = Math.max(1, columns) * estimatedBytesPerCell
  const rowsPerJob = Math.max(1, Math.min(batchSize ?? Number.POSITIVE_INFINITY, Math.floor(maxJobBytes / bytesPerRow)))
  const known = rows ?? 0
  const fullJobs = Math.floor(known / rowsPerJob)
  const remainder = known - fullJobs * rowsPerJob
  const jobs = fullJobs + (remainder > 0 ? 1 : 0)
  const bulkBatches = fullJobs * Math.ceil(rowsPerJob / recordsPerBulkBatch) + Math.ceil(remainder / recordsPerBulkBatch)
  return { rows, jobs, bulkBatches, apiCalls: jobs * apiCallsPerJob + describeCalls }
}

type FieldClass = "boolean" | "number" | "date" | "dateTime" | "time" | "id" | "multipicklist" | "text"

const classOf = (field: FieldMetadata.FieldMetadata): FieldClass => {
  const format = CsvEncoder.formatOf(field)
  if (format === "integer" || format === "decimal") return "number"
  return format === "picklist" ? "text" : format
}

/** Source kinds a field can never take (text is parsed row by row, so it always may). */
const incompatible: Record<FieldClass, ReadonlyArray<ColumnKind>> = {
  boolean: ["date", "timestamp", "time", "list"],
  number: ["boolean", "date", "timestamp", "time", "list"],
  date: ["boolean", "number", "time", "list"],
  dateTime: ["boolean", "time", "list"],
  time: ["boolean", "number", "date", "timestamp", "list"],
  id: ["boolean", "number", "date", "timestamp", "time", "list"],
  multipicklist: ["boolean", "number", "date", "timestamp", "time"],
  text: []
}

/** The field a CSV column writes: the object's own, or a parent's for a relationship column (names in any case). */
export const targetField = (
  object: FieldMetadata.ObjectMetadata,
  parents: Readonly<Record<string, FieldMetadata.ObjectMetadata>>,
  column: string
): FieldMetadata.FieldMetadata | undefined => {
  const named = (name: string) => (field: FieldMetadata.FieldMetadata) => field.name.toLowerCase() === name.toLowerCase()
  const dot = column.lastIndexOf(".")
  if (dot === -1) return object.fields.find(named(column))
  const parent = Option.getOrUndefined(StreamPlans.parentOf(object, column))
  return parent === undefined ? undefined : parents[parent]?.fields.find(named(column.slice(dot + 1)))
}

/** Every mapping problem the encoder finds: after each, the offending column is set aside and the rest checked again. */
export const encoderProblems = (
  options: Omit<CsvEncoder.Options, "columns">,
  columns: ReadonlyArray<CsvEncoder.Column>
): Array<{ reason: string; column: string | undefined; message: string }> => {
  const found: Array<{ reason: string; column: string | undefined; message: string }> = []
  let remaining = [...columns]
  for (;;) {
    const made = CsvEncoder.make({ ...options, columns: remaining })
    if (Either.isRight(made)) return found
    const error = made.left
    if (error.reason === "NoColumns" && found.length > 0) return found
    if (found.some((earlier) => earlier.reason === error.reason && earlier.column === error.column)) return found
    found.push({ reason: error.reason, column: error.column, message: error.message })
    const next = remaining.filter((column) => column.column !== error.column)
    if (next.length === remaining.length || next.length === 0) return found
    remaining = next
  }
}

/** Problems of source columns: missing from the source, or of a kind the field cannot take. */
export const sourceProblems = (
  columns: ReadonlyArray<CsvEncoder.Column>,
  sourceColumns: ReadonlyArray<SourceColumn> | undefined,
  fieldOf: (column: string) => FieldMetadata.FieldMetadata | undefined
): Array<{ reason: string; column: string; message: string }> => {
  // an empty file has no header: its columns are not known, and it has no row to miss them
  if (sourceColumns === undefined || sourceColumns.length === 0) return []
  const byName = new Map(sourceColumns.map((column) => [column.name, column]))
  return columns.flatMap((column) => {
    if (!("key" in column.source)) return []
    const key = column.source.key
    const source = byName.get(key)
    if (source === undefined) {
      return [{ reason: "SourceColumnMissing", column: column.column, message: `${column.column}: the source has no column ${key} (it has ${[...byName.keys()].join(", ")})` }]
    }
    const field = fieldOf(column.column)
    if (field === undefined) return []
    const fieldClass = classOf(field)
    return incompatible[fieldClass].includes(source.kind)
      ? [{ reason: "IncompatibleType", column: column.column, message: `${column.column}: source column ${key} is ${source.kind}, field ${field.name} is ${field.type}` }]
      : []
  })
}

/** Constants of picklist fields that are not among the field's active values (restricted or not). */
export const picklistProblems = (
  columns: ReadonlyArray<CsvEncoder.Column>,
  fieldOf: (column: string) => FieldMetadata.FieldMetadata | undefined
): Array<{ reason: string; column: string; message: string }> =>
  columns.flatMap((column) => {
    if (!("constant" in column.source) || typeof column.source.constant !== "string") return []
    const field = fieldOf(column.column)
    if (field === undefined || (field.type !== "picklist" && field.type !== "multipicklist") || field.picklistValues.length === 0) return []
    const allowed = new Set(field.picklistValues.filter((value) => value.active).map((value) => value.value))
    const values = field.type === "multipicklist" ? column.source.constant.split(";") : [column.source.constant]
    const bad = values.filter((value) => !allowed.has(value))
    return bad.length === 0
      ? []
      : [{ reason: "InvalidPicklistConstant", column: column.column, message: `${column.column}: ${JSON.stringify(bad.join(";"))} is not a value of picklist ${field.name} (${[...allowed].join(", ")})` }]
  })

/** Fields required on insert that no column writes (a relationship column writes its lookup field). */
export const unmappedRequired = (object: FieldMetadata.ObjectMetadata, columns: ReadonlyArray<CsvEncoder.Column>): Array<string> => {
  const written = new Set<string>()
  for (const { column } of columns) {
    const dot = column.indexOf(".")
    // `Account.External_Id__c`, or a polymorphic `Owner:User.Email` / `User:Owner.Email`
    const names = (dot === -1 ? [] : column.slice(0, dot).split(":")).map((name) => name.toLowerCase())
    const field =
      dot === -1
        ? object.fields.find((candidate) => candidate.name.toLowerCase() === column.toLowerCase())
        : object.fields.find((candidate) => names.includes(Option.getOrUndefined(candidate.relationshipName)?.toLowerCase() ?? ""))
    if (field !== undefined) written.add(field.name)
  }
  return object.fields.filter((field) => FieldMetadata.isRequiredOnInsert(field) && !written.has(field.name)).map((field) => field.name)
}

/** Where describes come from: the org, or a snapshot. */
export type Describe = (name: string) => Effect.Effect<FieldMetadata.ObjectMetadata, string>

const fromRaw = (name: string, raw: OrgMetadata.SObjectDescribe | undefined): Either.Either<FieldMetadata.ObjectMetadata, string> =>
  raw === undefined
    ? Either.left(`object ${name} does not exist in the org`)
    : Either.mapLeft(FieldMetadata.decodeObjectMetadata(raw), (error) => `describe of ${name} is unreadable: ${error.message}`)

/** Checks one sync against its org's describes and its source. */
export const planSync = (loaded: LoadedSync, describe: Describe, context: RunContext, describeCalls: number) =>
  Effect.gen(function* () {
    const definition = loaded.definition
    const columns = Mapping.columns(definition)
    const problems: Array<Problem> = []
    const warnings: Array<Problem> = []
    const found = (into: Array<Problem>) => (reason: string, message: string, keyPath: ReadonlyArray<string>) => {
      const position = loaded.positionOf(keyPath)
      into.push({ sync: definition.name, file: loaded.file, line: position?.line, column: position?.column, reason, message })
    }
    const problem = found(problems)
    const warning = found(warnings)
    const object = yield* Effect.either(describe(definition.object))
    const reader = Sources.reader(definition.source, { baseDir: context.baseDir, stdin: context.stdin })
    const sourceColumns = yield* Effect.either(reader.columns)
    if (Either.isLeft(sourceColumns)) problem("SourceFailed", sourceColumns.left.message, ["source"])
    // as the sync takes it: nothing to read, so no column to miss
    else if (sourceColumns.right?.length === 0) warning("SourceEmpty", "the source file is empty (not even a header row): the sync would read no rows", ["source"])
    // as the sync would, before sending anything
    const stateFile = definition.source.type === "airbyte" ? definition.source.stateFile : undefined
    if (stateFile !== undefined) {
      const states = yield* Effect.either(StateFile.readable(StateFile.resolvePath(context.baseDir, stateFile)))
      if (Either.isLeft(states)) problem("StateFileUnreadable", states.left.message, ["source", "stateFile"])
    }
    if (Either.isLeft(object)) {
      problem("UnknownObject", object.left, ["object"])
    } else {
      const parents: Record<string, FieldMetadata.ObjectMetadata> = {}
      for (const column of columns) {
        const parent = Option.getOrUndefined(StreamPlans.parentOf(object.right, column.column))
        if (parent === undefined || parents[parent] !== undefined) continue
        const described = yield* Effect.either(describe(parent))
        if (Either.isRight(described)) parents[parent] = described.right
        else problem("UnknownObject", `${column.column}: ${described.left}`, ["mappings", column.column])
      }
      const options = {
        object: object.right,
        operation: definition.operation,
        parents,
        ...(definition.operation === "upsert" && definition.externalIdField !== undefined ? { externalIdFieldName: definition.externalIdField } : {}),
        ...(definition.nulls === undefined ? {} : { nullPolicy: definition.nulls })
      }
      const fieldOf = (column: string) => targetField(object.right, parents, column)
      const mapped = new Set(columns.map((column) => column.column))
      for (const found of encoderProblems(options, columns)) {
        problem(found.reason, found.message, found.column !== undefined && mapped.has(found.column) ? ["mappings", found.column] : found.reason.startsWith("ExternalId") ? ["externalIdField"] : ["mappings"])
      }
      for (const found of [...sourceProblems(columns, Either.getOrUndefined(sourceColumns), fieldOf), ...picklistProblems(columns, fieldOf)]) {
        problem(found.reason, found.message, ["mappings", found.column])
      }
      if (definition.operation === "upsert") {
        for (const field of unmappedRequired(object.right, columns)) {
          warning("RequiredFieldNotMapped", `${field} is required when the upsert creates a record, and is not mapped: keys not found in Salesforce will be rejected`, ["mappings"])
        }
      }
    }
    const rows = yield* Effect.either(reader.count)
    if (Either.isLeft(rows) && Either.isRight(sourceColumns)) problem("SourceFailed", rows.left.message, ["source"])
    const plan: SyncPlan = {
      name: definition.name,
      problems,
      warnings,
      estimate: estimate(Either.getOrUndefined(rows), columns.length, definition.batchSize, describeCalls)
    }
    return plan
  })

const liveDescribe =
  (bulk: BulkClient.BulkClientService): Describe =>
  (name) =>
    bulk.describeSObject(name).pipe(
      Effect.mapError((error) => ("status" in error && error.status === 404 ? `object ${name} does not exist in the org` : `describe of ${name} failed: ${error.message}`)),
      Effect.flatMap((raw) => fromRaw(name, raw))
    )

const snapshotDescribe =
  (objects: Readonly<Record<string, OrgMetadata.SObjectDescribe>> | undefined, org: string, file: string): Describe =>
  (name) =>
    objects === undefined
      ? Effect.fail(`the snapshot has no org ${org}: run snapshot first`)
      : objects[name] === undefined
        ? // a snapshot keeps the objects the syncs used when it was taken: a new one is missing, not absent from the org
          Effect.fail(`object ${name} is not in the snapshot ${file}: run snapshot to take it in`)
        : fromRaw(name, objects[name])

const format = (count: number) => count.toLocaleString("en-US")

/** Runs `plan` and prints it; the exit code is 2 when any definition has a problem. */
export const run = (
  syncs: ReadonlyArray<LoadedSync>,
  context: RunContext,
  options: { readonly offline: boolean; readonly snapshot: string }
): Effect.Effect<number, ConfigError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const out = (line: string) => context.output.stdout(`${context.redactor.scrub(line)}\n`)
      const snapshot = options.offline ? yield* Snapshot.read(context.baseDir, options.snapshot) : undefined
      const connections = yield* OrgConnections.make(context.env, context.redactor, context.baseDir)
      const plans: Array<SyncPlan> = []
      const limits = new Map<string, OrgMetadata.Limits>()
      const costs = new Map<string, { apiCalls: number; bulkBatches: number }>()
      /** Syncs not checked: their org could not be reached (exit 1) or is configured wrong (exit 2). */
      let unreachable = 0
      let misconfigured = 0
      out(options.offline ? `plan (offline: describes from ${options.snapshot})` : "plan")
      for (const loaded of syncs) {
        const definition = loaded.definition
        const org = OrgConnections.orgLabel(definition.org)
        let describe: Describe
        if (snapshot !== undefined) {
          describe = snapshotDescribe(snapshot.orgs[org]?.objects, org, options.snapshot)
        } else {
          const connection = yield* Effect.either(connections.get(definition.org))
          if (Either.isLeft(connection)) {
            const error = connection.left
            const configured = error._tag === "ConfigError" || !error.isTransient
            out(`  ERR ${definition.name}: ${configured ? "cannot use" : "cannot reach"} org ${org}: ${error.message}`)
            if (configured) misconfigured++
            else unreachable++
            continue
          }
          const bulk = yield* Effect.provide(BulkClient.BulkClient, connection.right)
          describe = liveDescribe(bulk)
          if (!limits.has(org)) {
            const orgLimits = yield* Effect.either(bulk.limits)
            if (Either.isRight(orgLimits)) limits.set(org, orgLimits.right)
          }
        }
        const parents = new Set(Mapping.columns(definition).flatMap((column) => (column.column.includes(".") ? [column.column.split(".")[0]] : [])))
        const plan = yield* planSync(loaded, describe, context, 1 + parents.size)
        plans.push(plan)
        const cost = costs.get(org) ?? { apiCalls: 1, bulkBatches: 0 }
        cost.apiCalls += plan.estimate?.apiCalls ?? 0
        cost.bulkBatches += plan.estimate?.bulkBatches ?? 0
        costs.set(org, cost)
        const key = definition.operation === "upsert" ? ` on ${definition.externalIdField ?? "?"}` : ""
        const figures =
          plan.estimate === undefined
            ? ""
            : `${plan.estimate.rows === undefined ? "rows not counted (stream)" : `${format(plan.estimate.rows)} rows`} → ${plan.estimate.jobs} job${plan.estimate.jobs === 1 ? "" : "s"}, ${plan.estimate.bulkBatches} Bulk API batch${plan.estimate.bulkBatches === 1 ? "" : "es"}, ~${plan.estimate.apiCalls} API calls`
        out(`  ${plan.problems.length === 0 ? "ok " : "ERR"} ${definition.name}: ${definition.source.type} → ${definition.object} ${definition.operation}${key} (${org}): ${figures}`)
        for (const found of plan.problems) out(`      ${found.file}:${found.line ?? 1}:${found.column ?? 1}: ${found.reason}: ${found.message}`)
        for (const found of plan.warnings) out(`      ${found.file}:${found.line ?? 1}:${found.column ?? 1}: warning: ${found.reason}: ${found.message}`)
      }
      let overLimit = false
      for (const [org, cost] of costs) {
        const orgLimits = limits.get(org)
        const api = orgLimits?.["DailyApiRequests"]
        const batches = orgLimits?.["DailyBulkApiBatches"]
        if (api === undefined) {
          out(`org ${org}: ~${format(cost.apiCalls)} API calls, ${format(cost.bulkBatches)} Bulk API batches${options.offline ? " (limits not checked offline)" : ""}`)
          continue
        }
        const apiShare = api.Remaining === 0 ? "all" : `${((cost.apiCalls / api.Remaining) * 100).toFixed(2)}%`
        out(`org ${org}: ~${format(cost.apiCalls)} API calls of ${format(api.Remaining)} remaining today (${apiShare})` + (batches === undefined ? "" : `, ${format(cost.bulkBatches)} Bulk API batches of ${format(batches.Remaining)} remaining`))
        if (cost.apiCalls > api.Remaining || (batches !== undefined && cost.bulkBatches > batches.Remaining)) {
          overLimit = true
          out(`  the run would exceed org ${org}'s remaining daily limits`)
        }
      }
      const problems = plans.reduce((total, plan) => total + plan.problems.length, 0)
      const warned = plans.reduce((total, plan) => total + plan.warnings.length, 0)
      const unchecked = unreachable + misconfigured
      const syncCount = (count: number) => `${count} sync${count === 1 ? "" : "s"}`
      out(
        // "no problems" only of syncs that were checked: with none checked, say nothing of them
        `${syncCount(plans.length)} planned${plans.length === 0 ? "" : problems === 0 ? ", no problems" : `, ${problems} problem${problems === 1 ? "" : "s"} found`}` +
          (warned === 0 ? "" : `, ${warned} warning${warned === 1 ? "" : "s"}`) +
          (unchecked === 0 ? "" : `, ${syncCount(unchecked)} not checked (org ${misconfigured > 0 ? "configured wrong" : "unreachable"})`)
      )
      if (problems > 0 || misconfigured > 0) return ExitCode.configError
      return unreachable > 0 || overLimit ? ExitCode.failed : ExitCode.ok
    })
  )

/**
 * `snapshot`: the org's describe of every object the syncs use (and the parents their
 * relationship columns reach), written as JSON to commit — the input of `plan --offline`.
 * Keyed by org (`local`, `production`, a My Domain URL…), objects sorted, no secrets, no dates,
 * so it only changes when the org's schema does.
 */
import type { AuthError } from "@sfdc-activation/auth"
import { type BulkApiError, BulkClient, OrgMetadata } from "@sfdc-activation/bulk-client"
import { FieldMetadata } from "@sfdc-activation/batcher"
import { StreamPlans } from "@sfdc-activation/pipeline"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import * as path from "node:path"
import { ConfigError } from "../ConfigError.js"
import * as Mapping from "../Mapping.js"
import * as OrgConnections from "../OrgConnections.js"
import type { RunContext } from "../RunContext.js"
import { ExitCode } from "../RunReport.js"
import type { LoadedSync } from "../SyncFiles.js"

export const defaultPath = "configs/org-snapshot.json"

export const SnapshotFile = Schema.Struct({
  orgs: Schema.Record({
    key: Schema.String,
    value: Schema.Struct({ objects: Schema.Record({ key: Schema.String, value: OrgMetadata.SObjectDescribe }) })
  })
})
export type SnapshotFile = typeof SnapshotFile.Type

const decodeFile = Schema.decodeUnknownEither(Schema.parseJson(SnapshotFile))

/** Reads a snapshot; a missing or malformed one is a configuration error. */
export const read = (baseDir: string, file: string): Effect.Effect<SnapshotFile, ConfigError> =>
  Effect.gen(function* () {
    const text = yield* Effect.tryPromise({
      try: () => readFile(path.resolve(baseDir, file), "utf8"),
      catch: () => new ConfigError({ file, detail: "cannot read the schema snapshot: run `nx run runner:snapshot` and commit it" })
    })
    return yield* Either.mapLeft(decodeFile(text), (error) => new ConfigError({ file, detail: `not a schema snapshot: ${error.message}` }))
  })

const sorted = <A>(record: Readonly<Record<string, A>>): Record<string, A> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))

/** Describes every object `syncs` reach, by org. */
export const collect = (
  syncs: ReadonlyArray<LoadedSync>,
  context: RunContext
): Effect.Effect<SnapshotFile, ConfigError | AuthError.AuthError | BulkApiError.BulkApiError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const connections = yield* OrgConnections.make(context.env, context.redactor, context.baseDir)
      const orgs: Record<string, Record<string, OrgMetadata.SObjectDescribe>> = {}
      for (const loaded of syncs) {
        const definition = loaded.definition
        const org = OrgConnections.orgLabel(definition.org)
        const objects = (orgs[org] ??= {})
        const bulk = yield* Effect.provide(BulkClient.BulkClient, yield* connections.get(definition.org))
        const describe = (name: string) =>
          Effect.gen(function* () {
            const raw = objects[name] ?? (yield* bulk.describeSObject(name))
            objects[name] = raw
            return raw
          })
        const raw = yield* describe(definition.object)
        const object = Either.getOrUndefined(FieldMetadata.decodeObjectMetadata(raw))
        if (object === undefined) continue
        for (const column of Mapping.columns(definition)) {
          const parent = Option.getOrUndefined(StreamPlans.parentOf(object, column.column))
          if (parent !== undefined) yield* describe(parent)
        }
      }
      const file: SnapshotFile = { orgs: Object.fromEntries(Object.entries(orgs).map(([org, objects]) => [org, { objects: sorted(objects) }])) }
      return file
    })
  )

export const run = (syncs: ReadonlyArray<LoadedSync>, context: RunContext, out: string): Effect.Effect<number, ConfigError> =>
  collect(syncs, context).pipe(
    Effect.flatMap((snapshot) =>
      Effect.tryPromise({
        try: async () => {
          const file = path.resolve(context.baseDir, out)
          await mkdir(path.dirname(file), { recursive: true })
          await writeFile(file, `${JSON.stringify(Schema.encodeSync(SnapshotFile)(snapshot), null, 2)}\n`)
          const counts = Object.entries(snapshot.orgs).map(([org, { objects }]) => `${org}: ${Object.keys(objects).join(", ")}`)
          context.output.stdout(`wrote ${out} (${counts.join("; ")})\n`)
          return ExitCode.ok
        },
        catch: () => new ConfigError({ detail: `cannot write ${out}` })
      })
    ),
    Effect.catchIf(
      (error): error is Exclude<typeof error, ConfigError> => !(error instanceof ConfigError),
      (error) =>
        Effect.sync(() => {
          context.output.stderr(`${context.redactor.scrub(`snapshot failed: ${error.message}`)}\n`)
          // refused credentials are the configuration's to fix, as for sync and plan
          return error._tag === "AuthError" && !error.isTransient ? ExitCode.configError : ExitCode.failed
        })
    )
  )

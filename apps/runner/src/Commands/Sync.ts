/**
 * `sync`: every sync (or `--sync NAME`) in run order. A sync whose `after:` dependency did not
 * succeed is skipped. Ends with the run report (`--report`), the human summary on stdout and,
 * when `$GITHUB_STEP_SUMMARY` is set, the Markdown summary appended to it.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { ConfigError } from "../ConfigError.js"
import * as OrgConnections from "../OrgConnections.js"
import type { RunContext } from "../RunContext.js"
import type * as RunReport from "../RunReport.js"
import type { LoadedSync, LoadedSyncs } from "../SyncFiles.js"
import { emptyResult, runSync } from "./SyncRun.js"

/** The syncs `--sync NAME` selects (all without it). */
export const select = (loaded: LoadedSyncs, only: string | undefined): Effect.Effect<ReadonlyArray<LoadedSync>, ConfigError> => {
  if (only === undefined) return Effect.succeed(loaded.syncs)
  const chosen = loaded.syncs.filter((sync) => sync.definition.name === only)
  return chosen.length === 0
    ? Effect.fail(new ConfigError({ detail: `--sync ${only}: no such sync (known: ${loaded.syncs.map((sync) => sync.definition.name).join(", ")})` }))
    : Effect.succeed(chosen)
}

/**
 * Refuses a run in which several syncs read Airbyte messages from standard input: the first would
 * take every message, and each later one would find the input ended and succeed with nothing.
 */
export const oneStdinReader = (syncs: ReadonlyArray<LoadedSync>): Effect.Effect<void, ConfigError> => {
  const readers = syncs.filter((sync) => sync.definition.source.type === "airbyte" && sync.definition.source.stdin === true)
  const [first, ...others] = readers
  if (first === undefined || others.length === 0) return Effect.void
  const position = first.positionOf(["source", "stdin"])
  return Effect.fail(
    new ConfigError({
      file: first.file,
      line: position?.line,
      column: position?.column,
      detail: `source.stdin: standard input feeds one sync per run, and ${others.map((sync) => `${sync.definition.name} (${sync.file})`).join(", ")} read${others.length === 1 ? "s" : ""} it too: run them one at a time with --sync NAME`
    })
  )
}

/**
 * A mapping the encoder refused while running (`InvalidMapping`), pointed at where it is written
 * as `plan` does, when its message names a mapping entry (`Title: …`, `No such column 'Title'`).
 */
export const locateMappingError = (sync: LoadedSync, result: RunReport.SyncResult): RunReport.SyncResult => {
  const detail = result.detail
  if (result.status !== "configError" || detail === undefined || !detail.startsWith("InvalidMapping")) return result
  const reason = detail.slice(detail.indexOf(": ") + 2)
  // the upsert's key field is written at externalIdField, whichever mapping names it
  if (reason.startsWith("upsert needs") || reason.includes(" is not an external id field of ")) {
    const position = sync.positionOf(["externalIdField"])
    if (position !== undefined) return { ...result, detail: `${sync.file}:${position.line}:${position.column}: ${detail}` }
  }
  const field = Object.keys(sync.definition.mappings)
    .sort((a, b) => b.length - a.length)
    .find((name) => reason.startsWith(`${name}:`) || reason.startsWith(`${name} `) || reason.includes(`'${name}'`))
  if (field === undefined) return result
  const position = sync.positionOf(["mappings", field])
  return { ...result, detail: `${sync.file}:${position?.line ?? 1}:${position?.column ?? 1}: ${detail}` }
}

/** Runs `syncs` in order, skipping those whose dependencies did not succeed, and all once the run is asked to stop. */
export const runAll = (
  syncs: ReadonlyArray<LoadedSync>,
  context: RunContext,
  runId: string,
  runOne: (sync: LoadedSync, connections: OrgConnections.OrgConnections) => Effect.Effect<RunReport.SyncResult> = (sync, connections) =>
    runSync(sync, context, connections, runId)
): Effect.Effect<Array<RunReport.SyncResult>> =>
  Effect.scoped(
    Effect.gen(function* () {
      const connections = yield* OrgConnections.make(context.env, context.redactor, context.baseDir)
      const stopped = yield* Deferred.make<void>()
      yield* Effect.forkScoped(Effect.zipRight(context.stop, Deferred.succeed(stopped, undefined)))
      const results: Array<RunReport.SyncResult> = []
      for (const sync of syncs) {
        if (yield* Deferred.isDone(stopped)) {
          results.push(emptyResult(sync, "skipped", "skipped: the run was stopped by a signal"))
          continue
        }
        const blocked = (sync.definition.after ?? []).flatMap((name) => {
          const dependency = results.find((result) => result.name === name)
          return dependency !== undefined && dependency.status !== "succeeded" ? [`${name} (${dependency.status})`] : []
        })
        if (blocked.length > 0) {
          results.push(emptyResult(sync, "skipped", `skipped: depends on ${blocked.join(", ")}`))
          continue
        }
        results.push(locateMappingError(sync, yield* runOne(sync, connections)))
      }
      return results
    })
  )

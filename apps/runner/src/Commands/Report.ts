/**
 * Publishing a finished run: the JSON report file, the human summary on stdout, and the
 * Markdown summary appended to `$GITHUB_STEP_SUMMARY`. Everything passes through the scrubber.
 */
import * as Effect from "effect/Effect"
import { appendFile, mkdir, rm, writeFile } from "node:fs/promises"
import * as path from "node:path"
import type { RunContext } from "../RunContext.js"
import * as RunReport from "../RunReport.js"

/** Where the sync definitions are read from without `--config-dir`. */
export const defaultConfigDir = "configs/syncs"

const variableReference = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/

/**
 * `text` as one word of a POSIX shell command: as is when plain; double-quoted when it holds
 * `${VAR}`s (a location written with them), so the shell expands them and nothing else; else
 * single-quoted.
 */
export const shellWord = (text: string): string => {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text
  if (variableReference.test(text)) {
    return `"${text.replace(new RegExp(`${variableReference.source}|[$"\\\\\`]`, "g"), (found) => (found.length > 1 ? found : `\\${found}`))}"`
  }
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/** The command that replays `location`, reading the sync definitions from `configDir` when it is not the default. */
export const replayCommand =
  (configDir: string) =>
  (location: string): string =>
    ["npx nx run runner:replay --", ...(configDir === defaultConfigDir ? [] : ["--config-dir", shellWord(configDir)]), "--from", shellWord(location)].join(" ")

const reasonOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

const isCode = (cause: unknown, code: string): boolean => typeof cause === "object" && cause !== null && "code" in cause && cause.code === code

/**
 * Removes the report an earlier run left at `reportPath`, before this run starts: a run that
 * ends without one (a configuration error, a second signal) must not leave the last run's
 * report to be read as its own.
 */
export const clearEarlier = (context: RunContext, reportPath: string | undefined): Effect.Effect<void> =>
  reportPath === undefined
    ? Effect.void
    : Effect.tryPromise(() => rm(path.resolve(context.baseDir, reportPath), { force: true })).pipe(
        // a folder on the way that is a file holds no report either
        Effect.catchAll((error) =>
          isCode(error.error, "ENOTDIR") ? Effect.void : Effect.logWarning(`cannot remove the earlier run report ${reportPath}: ${reasonOf(error.error)}`)
        )
      )

/**
 * Prints the summary and writes the report and the step summary. The exit code: the report's,
 * or "failed" when the run succeeded but its `--report` file could not be written (a CI step
 * reading it would find none).
 */
export const publish = (report: RunReport.RunReport, context: RunContext, reportPath: string | undefined, configDir: string): Effect.Effect<number> =>
  Effect.gen(function* () {
    const scrub = (text: string) => context.redactor.scrub(text)
    context.output.stdout(scrub(RunReport.human(report, report.command === "sync" ? replayCommand(configDir) : undefined)))
    let exitCode = report.exitCode
    if (reportPath !== undefined) {
      const file = path.resolve(context.baseDir, reportPath)
      yield* Effect.tryPromise(async () => {
        await mkdir(path.dirname(file), { recursive: true })
        await writeFile(file, `${scrub(JSON.stringify(report, null, 2))}\n`)
      }).pipe(
        Effect.catchAll((error) =>
          Effect.zipRight(
            Effect.logError(scrub(`cannot write the run report to ${reportPath}: ${reasonOf(error.error)}`)),
            Effect.sync(() => void (exitCode = exitCode === RunReport.ExitCode.ok ? RunReport.ExitCode.failed : exitCode))
          )
        )
      )
    }
    const stepSummary = context.env["GITHUB_STEP_SUMMARY"]
    if (stepSummary !== undefined && stepSummary !== "") {
      yield* Effect.tryPromise(() => appendFile(stepSummary, scrub(RunReport.markdown(report)))).pipe(
        Effect.catchAll((error) => Effect.logError(scrub(`cannot append to $GITHUB_STEP_SUMMARY: ${reasonOf(error.error)}`)))
      )
    }
    return exitCode
  })

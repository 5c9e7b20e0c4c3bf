/**
 * Publishing a finished run: the JSON report file, the human summary on stdout, and the
 * Markdown summary appended to `$GITHUB_STEP_SUMMARY`. Everything passes through the scrubber.
 */
import * as Effect from "effect/Effect"
import { appendFile, mkdir, writeFile } from "node:fs/promises"
import * as path from "node:path"
import type { RunContext } from "../RunContext.js"
import * as RunReport from "../RunReport.js"

/** Where the sync definitions are read from without `--config-dir`. */
export const defaultConfigDir = "configs/syncs"

/** `text` as one word of a POSIX shell command: as is when plain, else single-quoted. */
const shellWord = (text: string): string => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`)

/** The command that replays `location`, reading the sync definitions from `configDir` when it is not the default. */
export const replayCommand =
  (configDir: string) =>
  (location: string): string =>
    ["npx nx run runner:replay --", ...(configDir === defaultConfigDir ? [] : ["--config-dir", shellWord(configDir)]), "--from", shellWord(location)].join(" ")

export const publish = (report: RunReport.RunReport, context: RunContext, reportPath: string | undefined, configDir: string): Effect.Effect<void> =>
  Effect.gen(function* () {
    const scrub = (text: string) => context.redactor.scrub(text)
    context.output.stdout(scrub(RunReport.human(report, report.command === "sync" ? replayCommand(configDir) : undefined)))
    if (reportPath !== undefined) {
      const file = path.resolve(context.baseDir, reportPath)
      yield* Effect.tryPromise(async () => {
        await mkdir(path.dirname(file), { recursive: true })
        await writeFile(file, `${scrub(JSON.stringify(report, null, 2))}\n`)
      }).pipe(Effect.catchAll(() => Effect.logError(`cannot write the run report to ${reportPath}`)))
    }
    const stepSummary = context.env["GITHUB_STEP_SUMMARY"]
    if (stepSummary !== undefined && stepSummary !== "") {
      yield* Effect.tryPromise(() => appendFile(stepSummary, scrub(RunReport.markdown(report)))).pipe(
        Effect.catchAll(() => Effect.logError("cannot append to $GITHUB_STEP_SUMMARY"))
      )
    }
  })

/**
 * The runner's command line: `sync`, `plan`, `snapshot`, `replay`, `json-schema`. Parses
 * options, builds the run context and maps outcomes to exit codes (0 ok, 1 failed, 2
 * configuration error, 3 failure threshold exceeded).
 */
import { NodeStream } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { mkdir, writeFile } from "node:fs/promises"
import * as path from "node:path"
import * as Plan from "./Commands/Plan.js"
import * as Replay from "./Commands/Replay.js"
import * as Report from "./Commands/Report.js"
import * as Snapshot from "./Commands/Snapshot.js"
import * as Sync from "./Commands/Sync.js"
import { ConfigError } from "./ConfigError.js"
import * as JsonSchema from "./JsonSchema.js"
import { errorLine, type LogFormat, type Output, Progress, logger } from "./Progress.js"
import { Redactor } from "./Redactor.js"
import type { RunContext } from "./RunContext.js"
import * as RunContextModule from "./RunContext.js"
import * as RunReport from "./RunReport.js"
import { SourceError } from "./Sources/Source.js"
import * as SyncFiles from "./SyncFiles.js"

export const usage = `usage: runner <command> [options]
  sync         run every sync (or --sync NAME)
  plan         check every definition against the org's schema and estimate the run's cost (--offline: the committed snapshot)
  snapshot     write the org's describe of the objects the syncs use (--out FILE)
  replay       resubmit rejected records: --from DIR | s3://bucket/prefix (--again: what a replay already sent)
  json-schema  print the sync definition JSON Schema (--write: to configs/sync.schema.json)
options: --config-dir DIR (configs/syncs) --sync NAME --report FILE --log-format text|json --snapshot FILE --offline`

export interface Io extends Output {
  readonly env: SyncFiles.Environment
  readonly cwd: string
  readonly stdin: Stream.Stream<Uint8Array, SourceError>
  /** Completes when the process is asked to stop (`RunContext.stop`); never, without one. */
  readonly stop?: Effect.Effect<void> | undefined
}

export const processIo = (): Io => ({
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  isTTY: process.stderr.isTTY,
  env: process.env,
  cwd: process.cwd(),
  stdin: NodeStream.stdin.pipe(Stream.mapError((cause) => new SourceError({ source: "airbyte", detail: `cannot read stdin: ${String(cause)}` })))
})

export interface Options {
  readonly command: string | undefined
  readonly configDir: string
  readonly sync: string | undefined
  readonly report: string | undefined
  readonly logFormat: LogFormat
  readonly offline: boolean
  readonly snapshot: string
  readonly out: string | undefined
  readonly from: string | undefined
  readonly write: boolean
  readonly again: boolean
}

const valued = new Set(["--config-dir", "--sync", "--report", "--log-format", "--snapshot", "--out", "--from"])
const flags = new Set(["--offline", "--write", "--again"])

export const parseArgs = (args: ReadonlyArray<string>): Either.Either<Options, ConfigError> => {
  const values = new Map<string, string>()
  const set = new Set<string>()
  const positional: Array<string> = []
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? ""
    const [name = "", inline] = arg.startsWith("--") ? arg.split(/=(.*)/s, 2) : [arg, undefined]
    if (valued.has(name)) {
      const value = inline ?? args[++index]
      if (value === undefined) return Either.left(new ConfigError({ detail: `${name} needs a value\n${usage}` }))
      values.set(name, value)
    } else if (flags.has(name)) set.add(name)
    else if (arg.startsWith("-")) return Either.left(new ConfigError({ detail: `unknown option ${arg}\n${usage}` }))
    else positional.push(arg)
  }
  const logFormat = values.get("--log-format") ?? "text"
  if (logFormat !== "text" && logFormat !== "json") return Either.left(new ConfigError({ detail: `--log-format takes text or json, got ${logFormat}` }))
  return Either.right({
    command: positional[0],
    configDir: values.get("--config-dir") ?? Report.defaultConfigDir,
    sync: values.get("--sync"),
    report: values.get("--report"),
    logFormat,
    offline: set.has("--offline"),
    snapshot: values.get("--snapshot") ?? Snapshot.defaultPath,
    out: values.get("--out"),
    from: values.get("--from"),
    write: set.has("--write"),
    again: set.has("--again")
  })
}

/** Whether `args` run a command with jobs in Salesforce worth awaiting when asked to stop (sync, replay), wherever the options stand. */
export const drainsOnStop = (args: ReadonlyArray<string>): boolean =>
  Either.match(parseArgs(args), { onLeft: () => false, onRight: (options) => options.command === "sync" || options.command === "replay" })

const runReport = (command: "sync" | "replay", runId: string, startedAt: Date, syncs: ReadonlyArray<RunReport.SyncResult>) =>
  RunReport.make({ command, runId, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), syncs })

const runCommand = (options: Options, context: RunContext): Effect.Effect<number, ConfigError> =>
  Effect.gen(function* () {
    // Values from the environment are registered as they are read, so even a decode error is scrubbed.
    const load = SyncFiles.load(path.resolve(context.baseDir, options.configDir), context.env, context.baseDir, context.redactor)
    const startedAt = new Date()
    const suffix = randomBytes(2).toString("hex")
    switch (options.command) {
      case "sync": {
        yield* Report.clearEarlier(context, options.report)
        const syncs = yield* Sync.select(yield* load, options.sync)
        yield* Sync.oneStdinReader(syncs)
        const runId = RunContextModule.runId("run", startedAt, suffix)
        const results = yield* Sync.runAll(syncs, context, runId)
        return yield* Report.publish(runReport("sync", runId, startedAt, results), context, options.report, options.configDir)
      }
      case "replay": {
        yield* Report.clearEarlier(context, options.report)
        if (options.from === undefined) return yield* new ConfigError({ detail: "replay needs --from DIR or --from s3://bucket/prefix (a run's rejects location, printed by sync)" })
        const syncs = yield* Sync.select(yield* load, options.sync)
        const runId = RunContextModule.runId("replay", startedAt, suffix)
        const results = yield* Replay.replay(syncs, options.from, context, runId, { again: options.again })
        return yield* Report.publish(runReport("replay", runId, startedAt, results), context, options.report, options.configDir)
      }
      case "plan": {
        const syncs = yield* Sync.select(yield* load, options.sync)
        return yield* Plan.run(syncs, context, { offline: options.offline, snapshot: options.snapshot })
      }
      case "snapshot": {
        const syncs = yield* Sync.select(yield* load, options.sync)
        return yield* Snapshot.run(syncs, context, options.out ?? options.snapshot)
      }
      case "json-schema": {
        const schema = JsonSchema.text()
        if (!options.write) {
          context.output.stdout(schema)
          return RunReport.ExitCode.ok
        }
        const file = path.resolve(context.baseDir, options.out ?? JsonSchema.defaultPath)
        yield* Effect.tryPromise({
          try: async () => {
            await mkdir(path.dirname(file), { recursive: true })
            await writeFile(file, schema)
          },
          catch: () => new ConfigError({ detail: `cannot write ${file}` })
        })
        context.output.stdout(`wrote ${path.relative(context.baseDir, file)}\n`)
        return RunReport.ExitCode.ok
      }
      case undefined:
        return yield* new ConfigError({ detail: usage })
      default:
        return yield* new ConfigError({ detail: `unknown command ${options.command}\n${usage}` })
    }
  })

/** Runs the command line; resolves to the exit code. */
export const main = (args: ReadonlyArray<string>, io: Io = processIo()): Effect.Effect<number> => {
  const redactor = new Redactor()
  const progress = new Progress(io, redactor)
  const context: RunContext = { output: io, env: io.env, baseDir: io.cwd, stdin: io.stdin, redactor, progress, stop: io.stop ?? Effect.never }
  const parsed = parseArgs(args)
  const format = Either.isRight(parsed) ? parsed.right.logFormat : "text"
  return Effect.flatMap(parsed, (options) => runCommand(options, context)).pipe(
    Effect.catchAll((error) =>
      Effect.sync(() => {
        io.stderr(`${errorLine(format, redactor.scrub(`configuration error: ${error.message}`))}\n`)
        return RunReport.ExitCode.configError
      })
    ),
    Effect.catchAllDefect((defect) =>
      Effect.sync(() => {
        io.stderr(`${errorLine(format, redactor.scrub(`unexpected failure: ${defect instanceof Error ? (defect.stack ?? defect.message) : String(defect)}`))}\n`)
        return RunReport.ExitCode.failed
      })
    ),
    Effect.provide(logger(progress, format))
  )
}

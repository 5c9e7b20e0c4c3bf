/**
 * The connector's command line: `spec`, `check --config F`, `discover --config F`,
 * `write --config F --catalog F`. Only Airbyte messages reach stdout; a fatal error becomes a
 * TRACE ERROR with its `failure_type`, and the process exits 1.
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import { AirbyteMessage, MessageWriter } from "@sfdc-activation/airbyte-protocol"
import { AuthError, SalesforceSession } from "@sfdc-activation/auth"
import { BulkApiError } from "@sfdc-activation/bulk-client"
import { PipelineError } from "@sfdc-activation/pipeline"
import { RejectSinkError } from "@sfdc-activation/rejects-s3"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { readFile } from "node:fs/promises"
import * as Check from "./Check.js"
import * as ConnectorConfig from "./ConnectorConfig.js"
import { bulkLayer, rejectSinkLayer } from "./ConnectorLayers.js"
import * as ConnectorSpec from "./ConnectorSpec.js"
import { discover } from "./Discover.js"
import * as Write from "./Write.js"

export const usage = "usage: destination-salesforce spec | check --config FILE | discover --config FILE | write --config FILE --catalog FILE"

/** Where the connector writes: stdout in production, anything line-based in tests. */
export interface Io {
  readonly stdout: MessageWriter.Output
  readonly stdin: Stream.Stream<Uint8Array, unknown>
  /**
   * Completes when the process is asked to stop (a first SIGTERM / SIGINT): `write` then reads no
   * more, starts no job, awaits the jobs already in Salesforce and emits their states.
   */
  readonly stop?: Effect.Effect<void> | undefined
}

export const processIo: Io = {
  stdout: process.stdout,
  stdin: NodeStream.stdin
}

const option = (args: ReadonlyArray<string>, name: string): string | undefined => {
  const index = args.indexOf(name)
  return index === -1 ? undefined : args[index + 1]
}

const requireOption = (args: ReadonlyArray<string>, name: string) => {
  const value = option(args, name)
  return value === undefined
    ? Effect.fail(new ConnectorConfig.ConfigError({ detail: `missing ${name} FILE (${usage})` }))
    : Effect.succeed(value)
}

/**
 * Where and why `JSON.parse` stopped, without the text around it: the parser quotes the file near
 * the error, and in a config that can be a secret written without its quotes.
 */
export const jsonSyntaxError = (text: string, cause: unknown): string => {
  const message = cause instanceof Error ? cause.message : ""
  const atPosition = /^(.*) (?:in|after) JSON at position (\d+)/.exec(message)
  if (atPosition !== null) {
    const position = Number(atPosition[2])
    const before = text.slice(0, position)
    const line = before.split("\n").length
    const column = position - before.lastIndexOf("\n")
    // older engines name the unexpected character: it may be the first of a secret
    const why = atPosition[1]?.startsWith("Unexpected token") === true ? "an unexpected character" : atPosition[1]
    return `line ${line}, column ${column}: ${why}`
  }
  if (message.startsWith("Unexpected end of JSON input")) return "it ends before the JSON does"
  return "an unexpected character"
}

/** A JSON file's content; errors name the file and the place, never the text there. */
export const readJson = (path: string) =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: () => new ConnectorConfig.ConfigError({ detail: `cannot read ${path}` })
  }).pipe(
    Effect.flatMap((text) =>
      Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: (cause) => new ConnectorConfig.ConfigError({ detail: `${path} is not valid JSON (${jsonSyntaxError(text, cause)})` })
      })
    )
  )

const readConfig = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const raw = yield* readJson(yield* requireOption(args, "--config"))
    const config = yield* ConnectorConfig.decode(raw)
    return { raw, config }
  })

const readCatalog = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const path = yield* requireOption(args, "--catalog")
    return yield* Either.mapLeft(
      AirbyteMessage.decodeConfiguredCatalog(yield* readJson(path)),
      (error) => new ConnectorConfig.ConfigError({ detail: `${path} is not a configured catalog: ${error.message}` })
    )
  })

/** Airbyte's failure type for an error: what the user fixes, what a retry fixes, or a bug. */
export const failureType = (error: unknown): AirbyteMessage.FailureType => {
  if (error instanceof ConnectorConfig.ConfigError) return "config_error"
  if (error instanceof AuthError.AuthError) return error.isTransient ? "transient_error" : "config_error"
  if (error instanceof BulkApiError.BulkApiError) {
    return error.isTransient || error.reason === "RateLimited" ? "transient_error" : "system_error"
  }
  if (error instanceof RejectSinkError.RejectSinkError) {
    // a bucket that is missing, refuses the keys or cannot be set up is the user's to fix
    if (error.reason === "AccessDenied" || error.reason === "BucketNotFound" || error.reason === "Config") return "config_error"
    return error.isTransient ? "transient_error" : "system_error"
  }
  if (error instanceof PipelineError.PipelineError) {
    if (error.reason === "InvalidMapping" || error.reason === "UnknownStream") return "config_error"
    if (error.reason === "Stopped") return "transient_error"
    if (error.reason === "RejectSinkFailed") return error.cause instanceof RejectSinkError.RejectSinkError ? failureType(error.cause) : "transient_error"
    return failureType(error.cause)
  }
  return "system_error"
}

const writeAll = (io: Io, messages: ReadonlyArray<MessageWriter.Outbound>) => Stream.run(Stream.fromIterable(messages), MessageWriter.sink(io.stdout))

/**
 * Writes a command's messages from the session in context, handing back each refresh token
 * Salesforce rotates in (it revokes the configured one) as a CONTROL message carrying the whole
 * config: as soon as it rotates, and the latest once more when the command ends — done, failed
 * or interrupted — unless it was the last one written, so a short command never misses it.
 */
const withRotatedRefreshTokens = <E, R>(io: Io, raw: unknown, output: Stream.Stream<MessageWriter.Outbound, E, R>) =>
  Effect.gen(function* () {
    const session = yield* SalesforceSession.SalesforceSession
    const rawConfig = typeof raw === "object" && raw !== null ? raw : {}
    const tokens = new WeakMap<MessageWriter.Outbound, string>()
    let written: string | undefined
    const control = (token: Redacted.Redacted<string>) =>
      Effect.map(MessageWriter.controlConnectorConfig({ ...rawConfig, refresh_token: Redacted.value(token) }), (message) => {
        tokens.set(message, Redacted.value(token))
        return message
      })
    const latest = Effect.flatMap(session.rotatedRefreshToken, (token) =>
      Option.isNone(token) || Redacted.value(token.value) === written ? Effect.void : Effect.flatMap(control(token.value), (message) => writeAll(io, [message]))
    )
    yield* Stream.merge(output, Stream.mapEffect(session.refreshTokenRotations, control), { haltStrategy: "left" }).pipe(
      Stream.tap((message) =>
        Effect.sync(() => {
          written = tokens.get(message) ?? written
        })
      ),
      Stream.run(MessageWriter.sink(io.stdout)),
      Effect.ensuring(Effect.ignore(latest))
    )
  })

const runCommand = (args: ReadonlyArray<string>, io: Io) =>
  Effect.gen(function* () {
    const command = args[0] ?? ""
    switch (command) {
      case "spec":
        return yield* writeAll(io, [MessageWriter.spec(ConnectorSpec.specification)])
      case "check": {
        // a config that cannot be read or used is a FAILED status too: check answers, exit 0
        const read = yield* Effect.either(readConfig(args))
        if (Either.isLeft(read)) return yield* writeAll(io, [Check.failed(read.left)])
        const { raw, config } = read.right
        return yield* withRotatedRefreshTokens(io, raw, Stream.fromEffect(Check.check(config))).pipe(
          Effect.provide(bulkLayer(config)),
          Effect.catchTag("AuthError", (error) => writeAll(io, [Check.failed(error)]))
        )
      }
      case "discover": {
        const { raw, config } = yield* readConfig(args)
        const catalog = Stream.fromEffect(Effect.map(discover, MessageWriter.destinationCatalog))
        return yield* withRotatedRefreshTokens(io, raw, catalog).pipe(Effect.provide(bulkLayer(config)))
      }
      case "write": {
        const { raw, config } = yield* readConfig(args)
        const catalog = yield* readCatalog(args)
        const syncId = catalog.streams.find((stream) => stream.sync_id !== undefined)?.sync_id
        const output = Write.write(catalog, config, io.stdin, { syncId: syncId === undefined ? undefined : String(syncId), stop: io.stop })
        // stopped by a signal, or unable to log in or to set up the rejects storage: no stream is left without its last status
        const incomplete = Effect.flatMap(Write.incompleteStatuses(catalog.streams.map(Write.descriptorOf)), (statuses) => writeAll(io, statuses))
        const services = Layer.merge(bulkLayer(config), rejectSinkLayer(config, syncId === undefined ? undefined : String(syncId))).pipe(
          Layer.tapErrorCause(() => Effect.ignore(incomplete))
        )
        return yield* withRotatedRefreshTokens(io, raw, output).pipe(
          Effect.provide(services),
          Effect.onInterrupt(() => Effect.ignore(incomplete))
        )
      }
      default:
        return yield* new ConnectorConfig.ConfigError({ detail: command === "" ? usage : `unknown command ${command} (${usage})` })
    }
  })

/** Sends Effect log lines to stdout as Airbyte LOG messages, whole lines per write. */
export const airbyteLogger = (io: Io) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ annotations, logLevel, message }) => {
      const level: AirbyteMessage.LogLevel =
        logLevel._tag === "Fatal" ? "FATAL" : logLevel._tag === "Error" ? "ERROR" : logLevel._tag === "Warning" ? "WARN" : logLevel._tag === "Debug" ? "DEBUG" : logLevel._tag === "Trace" ? "TRACE" : "INFO"
      const said = Array.isArray(message) ? message.map(String).join(" ") : String(message)
      const text = [said, ...Array.from(HashMap.toEntries(annotations), ([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)].join(" ")
      io.stdout.write(`${MessageWriter.encode(MessageWriter.log(level, text))}\n`, () => undefined)
    })
  )

/** Runs a command; resolves to the process exit code. */
export const main = (args: ReadonlyArray<string>, io: Io = processIo): Effect.Effect<number> =>
  runCommand(args, io).pipe(
    Effect.as(0),
    Effect.catchAllCause((cause) =>
      Effect.gen(function* () {
        const failure = Cause.failureOption(cause)
        const error = Option.getOrUndefined(failure)
        const message = error instanceof Error ? error.message : Cause.isInterruptedOnly(cause) ? "the sync was interrupted" : "unexpected failure"
        const trace = yield* MessageWriter.traceError({
          message,
          failureType: Cause.isInterruptedOnly(cause) ? "transient_error" : failureType(error),
          internalMessage: error instanceof Error ? error.name : "defect",
          stackTrace: Cause.pretty(cause)
        })
        yield* writeAll(io, [trace]).pipe(Effect.ignore)
        return 1
      })
    ),
    Effect.onInterrupt(() =>
      MessageWriter.traceError({
        message:
          "the sync was interrupted (SIGINT / SIGTERM): jobs still open were aborted and the states of records settled before were emitted; a job already closed runs on in Salesforce, and its records are sent again by the next run",
        failureType: "transient_error"
      }).pipe(
        Effect.flatMap((trace) => writeAll(io, [trace])),
        Effect.ignore
      )
    ),
    Effect.provide(airbyteLogger(io)),
    Logger.withMinimumLogLevel(LogLevel.Info)
  )

/**
 * Airbyte messages — from a file, standard input, or a spawned source connector's `read` — as
 * rows: RECORD `data` (of one stream, or all), and STATE messages as checkpoints, written to
 * `stateFile` once every record before them is settled.
 */
import { type AirbyteMessage, MessageReader } from "@sfdc-activation/airbyte-protocol"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { createReadStream } from "node:fs"
import * as path from "node:path"
import * as StateFile from "../StateFile.js"
import type * as SyncDefinition from "../SyncDefinition.js"
import { messageOf, row, SourceError, type SourceItem, type SourceReader } from "./Source.js"

/** How much of a failed command's stderr an error quotes. */
const stderrTailChars = 2_000

const failure = (detail: string) => (cause: unknown) => new SourceError({ source: "airbyte", detail: `${detail}: ${messageOf(cause)}`, cause })

const bytesOf = (iterable: AsyncIterable<unknown>, detail: string): Stream.Stream<Uint8Array, SourceError> =>
  Stream.fromAsyncIterable(iterable, failure(detail)).pipe(
    Stream.filterMap((chunk) => (chunk instanceof Uint8Array ? Option.some(chunk) : typeof chunk === "string" ? Option.some(Buffer.from(chunk)) : Option.none()))
  )

/** A spawned command's stdout; fails with its stderr's tail when it exits non-zero. Killed if the run stops early. */
export const commandOutput = (command: ReadonlyArray<string>, cwd: string): Stream.Stream<Uint8Array, SourceError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const [program = "", ...args] = command
      const child = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const spawned = spawn(program, args, { cwd, stdio: ["ignore", "pipe", "pipe"] })
          let stderr = ""
          spawned.stderr.on("data", (chunk: Buffer) => {
            stderr = (stderr + chunk.toString("utf8")).slice(-stderrTailChars)
          })
          const exited = new Promise<{ code: number | null; error: Error | undefined }>((resolve) => {
            spawned.once("error", (error) => resolve({ code: null, error }))
            spawned.once("close", (code) => resolve({ code, error: undefined }))
          })
          return { spawned, exited, stderr: () => stderr }
        }),
        ({ spawned }) => Effect.sync(() => (spawned.exitCode === null && spawned.signalCode === null ? void spawned.kill() : undefined))
      )
      const exit = Effect.promise(() => child.exited).pipe(
        Effect.flatMap(({ code, error }) =>
          error !== undefined
            ? Effect.fail(new SourceError({ source: "airbyte", detail: `cannot run ${program}: ${error.message}` }))
            : code === 0
              ? Effect.void
              : Effect.fail(new SourceError({ source: "airbyte", detail: `${program} exited with code ${code ?? "?"}: ${child.stderr().trim()}` }))
        )
      )
      return Stream.concat(bytesOf(child.spawned.stdout, `reading ${program}'s output failed`), Stream.drain(Stream.fromEffect(exit)))
    })
  )

/** Whether a STATE message is checkpointed by a sync of `stream` (all streams when undefined): global states always are. */
const isStateOf = (state: AirbyteMessage.AirbyteState, stream: string | undefined): boolean =>
  stream === undefined || state.type !== "STREAM" || state.stream === undefined || state.stream.stream_descriptor.name === stream

/**
 * Decoded messages as source items: the RECORDs of `stream` (all when undefined) and the STATEs
 * a sync of it may checkpoint. `origin` (the file, or the command) prefixes a malformed line's error.
 */
export const items = (bytes: Stream.Stream<Uint8Array, SourceError>, stream: string | undefined, origin: string): Stream.Stream<SourceItem, SourceError> =>
  bytes.pipe(
    MessageReader.decodeMessages(),
    Stream.mapError((error) => (error instanceof SourceError ? error : new SourceError({ source: "airbyte", detail: `${origin}: ${error.message}`, cause: error }))),
    Stream.filterMap((inbound): Option.Option<SourceItem> => {
      const message = inbound.message
      if (message.type === "RECORD") {
        return stream === undefined || message.record.stream === stream ? Option.some(row(message.record.data)) : Option.none()
      }
      if (message.type === "STATE" && inbound.stateLine !== undefined && isStateOf(message.state, stream)) {
        const state = message.state
        const scope = state.type === "STREAM" && state.stream !== undefined ? StateFile.streamKey(state.stream.stream_descriptor) : undefined
        return Option.some({ _tag: "State", line: inbound.stateLine, scope })
      }
      return Option.none()
    })
  )

/** Where an airbyte source's messages come from, as a malformed line's error names it. */
const originOf = (source: SyncDefinition.AirbyteSourceType): string =>
  source.file !== undefined ? source.file : source.command !== undefined ? `the output of ${source.command[0] ?? "the command"}` : "standard input"

export const reader = (source: SyncDefinition.AirbyteSourceType, baseDir: string, stdin: Stream.Stream<Uint8Array, SourceError>): SourceReader => {
  const file = source.file === undefined ? undefined : path.resolve(baseDir, source.file)
  const bytes =
    file !== undefined
      ? Stream.suspend(() => bytesOf(createReadStream(file), `cannot read ${source.file ?? ""}`))
      : source.command !== undefined
        ? commandOutput(source.command, baseDir)
        : stdin
  const origin = originOf(source)
  return {
    items: items(bytes, source.stream, origin),
    count:
      file === undefined
        ? Effect.succeed(undefined)
        : Stream.runCount(Stream.filter(items(bytes, source.stream, origin), (item) => item._tag === "Row")),
    columns: Effect.succeed(undefined)
  }
}

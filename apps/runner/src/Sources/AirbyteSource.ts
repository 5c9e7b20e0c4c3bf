/**
 * Airbyte messages — from a file, standard input, or a spawned source connector's `read` — as
 * rows: RECORD `data` (of one stream, or all), and STATE messages as checkpoints, written to
 * `stateFile` once every record before them is settled.
 */
import { type AirbyteMessage, MessageReader } from "@sfdc-activation/airbyte-protocol"
import { NodeStream } from "@effect/platform-node"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { createReadStream } from "node:fs"
import type { Readable } from "node:stream"
import * as path from "node:path"
import * as StateFile from "../StateFile.js"
import type * as SyncDefinition from "../SyncDefinition.js"
import { messageOf, row, SourceError, type SourceItem, type SourceReader } from "./Source.js"

/** How much of a failed command's stderr an error quotes. */
const stderrTailChars = 2_000
/** How many of the errors a source reported an error quotes. */
const maxErrorsQuoted = 3
/** How many other streams the error for a stream no message names lists. */
const maxStreamsNamed = 20

const failure = (detail: string) => (cause: unknown) => new SourceError({ source: "airbyte", detail: `${detail}: ${messageOf(cause)}`, cause })

/**
 * A Node stream's bytes. Stopped early (a run asked to stop), it destroys the stream at once: an
 * async iterator's `return()` would first await a read that a source with nothing to say never ends.
 */
const bytesOf = (readable: () => Readable, detail: string): Stream.Stream<Uint8Array, SourceError> => NodeStream.fromReadable(readable, failure(detail))

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
      return Stream.concat(bytesOf(() => child.spawned.stdout, `reading ${program}'s output failed`), Stream.drain(Stream.fromEffect(exit)))
    })
  )

/** The records a sync takes: of one stream (and namespace), or all when `stream` is undefined. */
export interface Selection {
  readonly stream?: string | undefined
  readonly namespace?: string | undefined
}

const namespaceText = (namespace: string | undefined) => (namespace === undefined ? "no namespace" : `namespace ${JSON.stringify(namespace)}`)

/** A source's LOG level as the runner logs it: errors and warnings as such, the rest at debug. */
const logAt = (level: AirbyteMessage.LogLevel, text: string): Effect.Effect<void> =>
  level === "FATAL" || level === "ERROR" ? Effect.logError(text) : level === "WARN" ? Effect.logWarning(text) : Effect.logDebug(text)

/** A stream as messages name it. */
interface Descriptor {
  readonly name: string
  readonly namespace?: string | undefined
}

/** A descriptor as the runner names a stream: `namespace.name`, or the name alone. */
const streamName = (descriptor: Descriptor) =>
  descriptor.namespace === undefined ? descriptor.name : `${descriptor.namespace}.${descriptor.name}`

/**
 * Decoded messages as source items: the RECORDs selected and the STATEs a sync of them may
 * checkpoint: a STREAM state of the stream selected; a GLOBAL (or legacy) state until a record of
 * another stream has been passed over, as it would then cover rows this sync never loaded. A
 * stream named in two namespaces, with no `namespace` chosen, stops the read. `origin` (the file,
 * or the command) prefixes an error.
 *
 * The source's LOG messages go to the runner's log. A TRACE ERROR (of the stream selected, or of
 * no stream) means the source failed: the rows before and after it are loaded, then the read
 * fails with its message. An input in which no message names the stream selected while others
 * are named (a misspelt `stream:`) is warned of.
 */
export const items = (bytes: Stream.Stream<Uint8Array, SourceError>, selection: Selection, origin: string): Stream.Stream<SourceItem, SourceError> =>
  Stream.suspend(() => {
    const { stream, namespace } = selection
    /** The namespace the stream's records came in first, when none is chosen. */
    let seenNamespace: { readonly namespace: string | undefined } | undefined
    /** The first record of another stream passed over, and whether a global state since was told of it. */
    let passedOver: { readonly stream: string; readonly line: number; told: boolean } | undefined
    /** A problem met part way through a chunk: raised once the items before it are handed on. */
    let problem: SourceError | undefined
    /** The errors the source reported (TRACE ERROR), with their lines. */
    const reported: Array<string> = []
    /** Whether a stream descriptor is the stream selected (every one is, with none selected). */
    const isSelected = (descriptor: Descriptor) => stream === undefined || (descriptor.name === stream && (namespace === undefined || descriptor.namespace === namespace))
    /** Whether a message named the stream selected; the other streams named, for a misspelt one. */
    let streamNamed = false
    const otherStreams = new Set<string>()
    const names = (descriptor: Descriptor) => {
      if (stream === undefined) return
      if (isSelected(descriptor)) streamNamed = true
      else if (otherStreams.size < maxStreamsNamed) otherStreams.add(streamName(descriptor))
    }
    /** What the source reported, before an error of the read itself. */
    const withReported = (detail: string) => (reported.length === 0 ? detail : `${reportedText()}; then ${detail}`)
    const reportedText = () =>
      `${origin}: the source reported ${reported.length === 1 ? "an error" : `${reported.length} errors`}: ${reported.slice(0, maxErrorsQuoted).join("; ")}${reported.length > maxErrorsQuoted ? "; …" : ""}`
    /**
     * How a read that ran to its end ends: failed with the errors the source reported; warned of a
     * stream no message named (a misspelt one, or a source with nothing new for it tonight and no
     * state or status naming it: not a failure).
     */
    const ended = Effect.suspend(() => {
      if (reported.length > 0) return Effect.fail(new SourceError({ source: "airbyte", detail: reportedText() }))
      if (stream !== undefined && !streamNamed && otherStreams.size > 0) {
        const selectedName = namespace === undefined ? stream : `${namespace}.${stream}`
        return Effect.logWarning(
          `${origin}: no message names stream ${selectedName}, so no record was read; the input has ${[...otherStreams].join(", ")}: check the source's stream:${namespace === undefined ? "" : " and namespace:"}`
        )
      }
      return Effect.void
    })
    const raised = Effect.suspend(() => (problem === undefined ? Effect.void : Effect.fail(problem)))

    /** Whether a record is taken; a SourceError for a stream seen in two namespaces. */
    const selected = (record: AirbyteMessage.AirbyteRecord, line: number): boolean | SourceError => {
      if (stream === undefined) return true
      if (record.stream !== stream || (namespace !== undefined && record.namespace !== namespace)) {
        const other = { name: record.stream, namespace: record.namespace }
        passedOver ??= { stream: streamName(other), line, told: false }
        names(other)
        return false
      }
      streamNamed = true
      if (namespace !== undefined) return true
      seenNamespace ??= { namespace: record.namespace }
      if (seenNamespace.namespace === record.namespace) return true
      return new SourceError({
        source: "airbyte",
        detail: `${origin}: line ${line}: records of stream ${stream} come in ${namespaceText(seenNamespace.namespace)} and in ${namespaceText(record.namespace)}: set the source's namespace: to the one to load`
      })
    }

    /** Whether a state is checkpointed by this sync; a warning the first time a global one cannot be. */
    const stateTaken = (state: AirbyteMessage.AirbyteState, line: number): boolean | { readonly warning: string } => {
      if (stream === undefined) return true
      if (state.type === "STREAM" && state.stream !== undefined) {
        const descriptor = state.stream.stream_descriptor
        names(descriptor)
        return isSelected(descriptor)
      }
      if (passedOver === undefined) return true
      if (passedOver.told) return false
      passedOver.told = true
      return {
        warning: `${origin}: line ${line}: a ${state.type ?? "legacy"} state covers every stream, and this sync passed over records of ${passedOver.stream} (from line ${passedOver.line}): it and later ones are not saved, so the next run reads those records again; to checkpoint a source with global state, load all its streams in one sync (no stream:)`
      }
    }

    return bytes.pipe(
      MessageReader.decodeMessages(),
      Stream.mapError((error) =>
        error instanceof SourceError
          ? new SourceError({ source: error.source, detail: withReported(error.detail), cause: error.cause })
          : new SourceError({ source: "airbyte", detail: withReported(`${origin}: ${error.message}`), cause: error })
      ),
      Stream.mapChunksEffect((chunk) =>
        Effect.zipRight(
          raised,
          Effect.suspend(() => {
            const taken: Array<SourceItem> = []
            const logs: Array<Effect.Effect<void>> = []
            for (const inbound of chunk) {
              const message = inbound.message
              if (message.type === "LOG") {
                logs.push(logAt(message.log.level, `${origin}: ${message.log.message}`))
              } else if (message.type === "TRACE") {
                const trace = message.trace
                if (trace.type === "STREAM_STATUS" && trace.stream_status !== undefined) names(trace.stream_status.stream_descriptor)
                if (trace.type === "ERROR" && trace.error !== undefined) {
                  const error = trace.error
                  const descriptor = error.stream_descriptor
                  const text = `line ${inbound.lineNumber}: ${error.message}${error.failure_type === undefined ? "" : ` (${error.failure_type})`}`
                  if (descriptor !== undefined) names(descriptor)
                  const ours = descriptor === undefined || isSelected(descriptor)
                  if (ours) reported.push(text)
                  else logs.push(Effect.logWarning(`${origin}: ${text}, for stream ${streamName(descriptor)}, which this sync does not load`))
                }
              } else if (message.type === "RECORD") {
                const outcome = selected(message.record, inbound.lineNumber)
                if (outcome instanceof SourceError) {
                  problem = outcome
                  break
                }
                if (outcome) taken.push(row(message.record.data))
              } else if (message.type === "STATE" && inbound.stateLine !== undefined) {
                const state = message.state
                const outcome = stateTaken(state, inbound.lineNumber)
                if (outcome === true) {
                  const scope = state.type === "STREAM" && state.stream !== undefined ? StateFile.streamKey(state.stream.stream_descriptor) : undefined
                  taken.push({ _tag: "State", line: inbound.stateLine, scope })
                } else if (outcome !== false) logs.push(Effect.logWarning(outcome.warning))
              }
            }
            return Effect.as(Effect.all(logs, { discard: true }), Chunk.unsafeFromArray(taken))
          })
        )
      ),
      Stream.concat(Stream.drain(Stream.fromEffect(Effect.zipRight(raised, ended))))
    )
  })

/** Where an airbyte source's messages come from, as a malformed line's error names it. */
const originOf = (source: SyncDefinition.AirbyteSourceType): string =>
  source.file !== undefined ? source.file : source.command !== undefined ? `the output of ${source.command[0] ?? "the command"}` : "standard input"

export const reader = (source: SyncDefinition.AirbyteSourceType, baseDir: string, stdin: Stream.Stream<Uint8Array, SourceError>): SourceReader => {
  const file = source.file === undefined ? undefined : path.resolve(baseDir, source.file)
  const bytes =
    file !== undefined
      ? bytesOf(() => createReadStream(file), `cannot read ${source.file ?? ""}`)
      : source.command !== undefined
        ? commandOutput(source.command, baseDir)
        : stdin
  const origin = originOf(source)
  return {
    items: items(bytes, source, origin),
    count:
      file === undefined
        ? Effect.succeed(undefined)
        : Stream.runCount(Stream.filter(items(bytes, source, origin), (item) => item._tag === "Row")),
    columns: Effect.succeed(undefined)
  }
}

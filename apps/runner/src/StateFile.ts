/**
 * The Airbyte state a source resumes from: released STATE messages, merged per stream (a
 * GLOBAL or LEGACY state replaces everything), written as the JSON array a connector's
 * `read --state` takes. The states already in the file are merged in first, so a run that
 * checkpoints only some streams keeps the others. Written atomically, so an interrupted run
 * leaves the previous state.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { AirbyteMessage, StateLine } from "@sfdc-activation/airbyte-protocol"
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises"
import * as path from "node:path"

const StateMessage = Schema.Struct({
  type: Schema.Literal("STATE"),
  state: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
const decodeLine = Schema.decodeUnknownOption(Schema.parseJson(StateMessage))

const StreamState = Schema.Struct({
  type: Schema.Literal("STREAM"),
  stream: Schema.Struct({ stream_descriptor: Schema.Struct({ name: Schema.String, namespace: Schema.optional(Schema.NullOr(Schema.String)) }) })
})
const decodeStreamState = Schema.decodeUnknownOption(StreamState)

/** The content of a state file: an array of state objects. */
const decodeFile = Schema.decodeUnknownEither(Schema.parseJson(Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown }))))

export class StateFileError extends Schema.TaggedError<StateFileError>()("StateFileError", {
  file: Schema.String,
  operation: Schema.Literal("read", "write", "lock"),
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.operation} the state file ${this.file}: ${this.detail}`
  }
}

export const resolvePath = (baseDir: string, file: string): string => path.resolve(baseDir, file)

/** The key a stream's state is kept under (internal only: never shown, never written). */
export const streamKey = AirbyteMessage.streamKey

/** The key of a global (or legacy) state, which replaces every stream's: no stream's key (a pair has two members). */
const globalKey = "[]"

/** The `code` of a Node file system error (`ENOENT`…), if it has one. */
export const errnoCode = (cause: unknown): unknown => (cause instanceof Error && "code" in cause ? cause.code : undefined)

/** The file's text, or undefined when there is no file yet. */
const readExisting = (file: string): Effect.Effect<string | undefined, StateFileError> =>
  Effect.tryPromise({
    try: async () => {
      try {
        return await readFile(file, "utf8")
      } catch (cause) {
        if (errnoCode(cause) === "ENOENT") return undefined
        throw cause
      }
    },
    catch: (cause) => new StateFileError({ file, operation: "read", detail: cause instanceof Error ? cause.message : String(cause) })
  })

/** The states an earlier run saved in `file`, in order: each decoded, and as its exact text. */
const load = (file: string): Effect.Effect<ReadonlyArray<{ readonly state: unknown; readonly text: string }>, StateFileError> =>
  Effect.flatMap(readExisting(file), (text) => {
    if (text === undefined) return Effect.succeed([])
    return Either.match(decodeFile(text), {
      onLeft: () =>
        Effect.fail(new StateFileError({ file, operation: "read", detail: "expected the JSON array of Airbyte states an earlier run wrote; fix or remove the file" })),
      onRight: (states) => {
        const texts = StateLine.arrayElementTexts(text)
        return Effect.succeed(states.map((state, index) => ({ state, text: texts[index] ?? JSON.stringify(state) })))
      }
    })
  })

/** Fails unless `file` is missing or holds states an earlier run wrote (`plan` checks this much; it writes nothing). */
export const readable = (file: string): Effect.Effect<void, StateFileError> => Effect.asVoid(load(file))

/** Fails unless the file's folder exists or can be made, and takes the temporary file a write goes through. */
const writable = (file: string): Effect.Effect<void, StateFileError> =>
  Effect.tryPromise({
    try: async () => {
      const temporary = `${file}.partial`
      await mkdir(path.dirname(file), { recursive: true })
      await writeFile(temporary, "")
      await rm(temporary)
    },
    catch: (cause) => new StateFileError({ file, operation: "write", detail: cause instanceof Error ? cause.message : String(cause) })
  })

export interface StateFile {
  /**
   * Reads the states `file` already holds (once; the first `write` does it otherwise) and checks
   * that its folder takes the file: a sync checks its state file this way before it sends
   * anything, so a file it could not read or write stops it before any row is written.
   */
  readonly load: (file: string) => Effect.Effect<void, StateFileError>
  /** The states to resume from, after `line` was released. */
  readonly merge: (line: string) => ReadonlyArray<string>
  /** Writes the states after `line` was released, merged into those `file` held when first written. */
  readonly write: (line: string, file: string) => Effect.Effect<void, StateFileError>
}

/** A sync's state file: empty until its first write, which merges in what the file already holds. */
export const make = (): StateFile => {
  /** Each stream's latest state, as the exact text the source sent (numbers beyond 2^53 stay exact). */
  const byStream = new Map<string, string>()
  let loaded = false
  /** Keeps `text` (a state object) as its stream's state, or as the global state. */
  const keep = (state: unknown, text: string) => {
    const stream = decodeStreamState(state)
    if (stream._tag === "Some") {
      byStream.set(streamKey(stream.value.stream.stream_descriptor), text)
    } else {
      byStream.clear()
      byStream.set(globalKey, text)
    }
  }
  const merge = (line: string): ReadonlyArray<string> => {
    const decoded = decodeLine(line)
    const text = StateLine.stateText(line)
    if (decoded._tag === "Some" && text !== undefined) keep(decoded.value.state, text)
    return [...byStream.values()]
  }
  /** Merges in what `file` holds, before the first write only. */
  const loadOnce = (file: string) =>
    Effect.suspend(() =>
      loaded
        ? Effect.void
        : Effect.map(load(file), (states) => {
            for (const { state, text } of states) keep(state, text)
            loaded = true
          })
    )
  return {
    load: (file) => Effect.zipRight(loadOnce(file), writable(file)),
    merge,
    write: (line, file) =>
      Effect.zipRight(
        loadOnce(file),
        Effect.tryPromise({
          try: async () => {
            const states = merge(line)
            const temporary = `${file}.partial`
            await mkdir(path.dirname(file), { recursive: true })
            await writeFile(temporary, `[\n${states.map((state) => `  ${state}`).join(",\n")}\n]\n`)
            await rename(temporary, file)
          },
          catch: (cause) => new StateFileError({ file, operation: "write", detail: cause instanceof Error ? cause.message : String(cause) })
        })
      )
  }
}
